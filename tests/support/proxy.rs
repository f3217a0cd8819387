//! A TCP proxy in front of the test PostgreSQL that can take the database "down" (every
//! open connection cut, new ones refused) and bring it back, without touching the cluster
//! the other tests share.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// The proxy; dropping it stops it.
pub struct PgProxy {
    /// The proxy's own address.
    pub addr: SocketAddr,
    down: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl PgProxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> PgProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let down = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (d, c) = (down.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                c.lock().unwrap_or_else(|p| p.into_inner()).push(task.abort_handle());
            }
        })
        .abort_handle();
        PgProxy { addr, down, conns, accept }
    }

    /// Cuts every connection and refuses new ones.
    pub fn down(&self) {
        self.down.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            c.abort();
        }
    }

    /// Accepts connections again.
    pub fn up(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.down();
    }
}

/// The `host:port` of `DATABASE_URL`.
pub fn database_addr() -> SocketAddr {
    let url = std::env::var("DATABASE_URL").unwrap_or_default();
    let host = url.rsplit_once('@').map(|(_, h)| h).unwrap_or(&url);
    let host_port = host.split('/').next().unwrap_or_default();
    use std::net::ToSocketAddrs;
    host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("DATABASE_URL needs host:port, got {host_port}"))
}
