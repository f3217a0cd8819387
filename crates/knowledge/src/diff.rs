//! Line diff of two revisions: the common head and tail are matched directly, the middle by
//! a longest common subsequence (bounded: a middle larger than [`MAX_CELLS`] is shown as
//! removed and added whole).

/// What happened to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// In both.
    Equal,
    /// Only in the newer text.
    Insert,
    /// Only in the older text.
    Delete,
}

/// One line of a diff with its line numbers (1-based) on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What happened.
    pub change: Change,
    /// The line.
    pub text: String,
    /// Its number in the older text.
    pub old: Option<usize>,
    /// Its number in the newer text.
    pub new: Option<usize>,
}

/// Most LCS table cells computed for one diff.
pub const MAX_CELLS: usize = 4_000_000;

/// The lines of `a` and `b` in order, each marked equal, inserted or deleted.
pub fn lines(a: &str, b: &str) -> Vec<Line> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..].iter().rev().zip(b[head..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let eq = |out: &mut Vec<Line>, i: usize, j: usize, t: &str| {
        out.push(Line { change: Change::Equal, text: t.to_owned(), old: Some(i + 1), new: Some(j + 1) })
    };
    for (i, t) in a[..head].iter().enumerate() {
        eq(&mut out, i, i, t);
    }
    middle(ma, mb, head, &mut out);
    for k in 0..tail {
        let (i, j) = (a.len() - tail + k, b.len() - tail + k);
        eq(&mut out, i, j, a[i]);
    }
    out
}

fn middle(a: &[&str], b: &[&str], off: usize, out: &mut Vec<Line>) {
    let del = |out: &mut Vec<Line>, i: usize| {
        out.push(Line { change: Change::Delete, text: a[i].to_owned(), old: Some(off + i + 1), new: None })
    };
    let ins = |out: &mut Vec<Line>, j: usize| {
        out.push(Line { change: Change::Insert, text: b[j].to_owned(), old: None, new: Some(off + j + 1) })
    };
    if (a.len() + 1).saturating_mul(b.len() + 1) > MAX_CELLS {
        (0..a.len()).for_each(|i| del(out, i));
        (0..b.len()).for_each(|j| ins(out, j));
        return;
    }
    // lcs[i][j]: longest common subsequence of a[i..] and b[j..].
    let w = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * w];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * w + j] =
                if a[i] == b[j] { lcs[(i + 1) * w + j + 1] + 1 } else { lcs[(i + 1) * w + j].max(lcs[i * w + j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(Line {
                change: Change::Equal,
                text: a[i].to_owned(),
                old: Some(off + i + 1),
                new: Some(off + j + 1),
            });
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
            del(out, i);
            i += 1;
        } else {
            ins(out, j);
            j += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(d: &[Line]) -> String {
        d.iter()
            .map(|l| match l.change {
                Change::Equal => format!(" {}", l.text),
                Change::Insert => format!("+{}", l.text),
                Change::Delete => format!("-{}", l.text),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_changed_line_is_deleted_and_inserted_in_place() {
        let d = lines("a\nb\nc\nd", "a\nB\nc\nd\ne");
        assert_eq!(render(&d), " a\n-b\n+B\n c\n d\n+e");
        assert_eq!(d[2].new, Some(2));
        assert_eq!(d[1].old, Some(2));
        assert_eq!(d.last().and_then(|l| l.new), Some(5));
    }

    #[test]
    fn both_sides_are_rebuilt_from_the_diff() {
        let (a, b) = ("x\ny\nz\nq\nw", "y\nx\nz\nw\nv\nq");
        let d = lines(a, b);
        let old: Vec<&str> = d.iter().filter(|l| l.change != Change::Insert).map(|l| l.text.as_str()).collect();
        let new: Vec<&str> = d.iter().filter(|l| l.change != Change::Delete).map(|l| l.text.as_str()).collect();
        assert_eq!(old.join("\n"), a);
        assert_eq!(new.join("\n"), b);
        assert_eq!(d.iter().filter(|l| l.change == Change::Equal).count(), 3, "the longest common part is kept");
        assert!(lines("", "").is_empty());
    }
}
