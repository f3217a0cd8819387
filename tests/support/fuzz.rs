//! Schema-driven operation generator for the fuzz and cross-tenant tests: reads the
//! schema by introspection (so every field of every domain is covered without listing
//! it) and builds operations with valid, boundary and hostile argument values.

use std::collections::HashMap;

use serde_json::{Value, json};

/// A GraphQL type reference.
#[derive(Debug, Clone)]
pub enum Ty {
    /// A named type.
    Named(String),
    /// `[T]`.
    List(Box<Ty>),
    /// `T!`.
    NonNull(Box<Ty>),
}

impl Ty {
    fn parse(v: &Value) -> Ty {
        match v["kind"].as_str() {
            Some("NON_NULL") => Ty::NonNull(Box::new(Ty::parse(&v["ofType"]))),
            Some("LIST") => Ty::List(Box::new(Ty::parse(&v["ofType"]))),
            _ => Ty::Named(v["name"].as_str().unwrap_or_default().to_owned()),
        }
    }

    /// The named type inside.
    pub fn name(&self) -> &str {
        match self {
            Ty::Named(n) => n,
            Ty::List(t) | Ty::NonNull(t) => t.name(),
        }
    }

    /// Whether a value is required.
    pub fn required(&self) -> bool {
        matches!(self, Ty::NonNull(_))
    }

    /// The SDL spelling (for variable definitions).
    pub fn sdl(&self) -> String {
        match self {
            Ty::Named(n) => n.clone(),
            Ty::List(t) => format!("[{}]", t.sdl()),
            Ty::NonNull(t) => format!("{}!", t.sdl()),
        }
    }
}

/// An argument or input field.
#[derive(Debug, Clone)]
pub struct Input {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Ty,
}

/// A root field.
#[derive(Debug, Clone)]
pub struct RootField {
    /// `query` or `mutation`.
    pub op: &'static str,
    /// Field name.
    pub name: String,
    /// Arguments.
    pub args: Vec<Input>,
    /// Return type.
    pub ty: Ty,
}

/// What the generator knows of the schema.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Root query and mutation fields.
    pub roots: Vec<RootField>,
    kinds: HashMap<String, String>,
    inputs: HashMap<String, Vec<Input>>,
    enums: HashMap<String, Vec<String>>,
}

/// The introspection query the catalog is read from.
pub const INTROSPECTION: &str = "{ __schema { queryType { name } mutationType { name } types { kind name \
    fields { name args { name type { ...T } } type { ...T } } inputFields { name type { ...T } } enumValues { name } } } } \
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

fn inputs(v: &Value) -> Vec<Input> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|i| Input { name: i["name"].as_str().unwrap_or_default().to_owned(), ty: Ty::parse(&i["type"]) })
                .collect()
        })
        .unwrap_or_default()
}

impl Catalog {
    /// Reads the `data` of [`INTROSPECTION`].
    pub fn from_introspection(data: &Value) -> Catalog {
        let schema = &data["__schema"];
        let mut c = Catalog::default();
        let roots =
            [("query", schema["queryType"]["name"].as_str()), ("mutation", schema["mutationType"]["name"].as_str())];
        for t in schema["types"].as_array().cloned().unwrap_or_default() {
            let name = t["name"].as_str().unwrap_or_default().to_owned();
            c.kinds.insert(name.clone(), t["kind"].as_str().unwrap_or_default().to_owned());
            if t["kind"] == "INPUT_OBJECT" {
                c.inputs.insert(name.clone(), inputs(&t["inputFields"]));
            }
            if t["kind"] == "ENUM" {
                let values = t["enumValues"].as_array().cloned().unwrap_or_default();
                c.enums.insert(
                    name.clone(),
                    values.iter().filter_map(|v| v["name"].as_str().map(str::to_owned)).collect(),
                );
            }
            for (op, root) in roots {
                if root == Some(name.as_str()) {
                    for f in t["fields"].as_array().cloned().unwrap_or_default() {
                        c.roots.push(RootField {
                            op,
                            name: f["name"].as_str().unwrap_or_default().to_owned(),
                            args: inputs(&f["args"]),
                            ty: Ty::parse(&f["type"]),
                        });
                    }
                }
            }
        }
        c
    }

    /// The selection a field of type `ty` needs.
    pub fn selection(&self, ty: &Ty) -> &'static str {
        match self.kinds.get(ty.name()).map(String::as_str) {
            Some("OBJECT" | "INTERFACE" | "UNION") => " { __typename }",
            _ => "",
        }
    }

    /// Every path to an ID-typed value in the arguments of `f` (`["input", "projectId"]`).
    pub fn id_paths(&self, f: &RootField) -> Vec<Vec<String>> {
        let mut out = vec![];
        for a in &f.args {
            self.collect_ids(&a.ty, vec![a.name.clone()], &mut out, 0);
        }
        out
    }

    fn collect_ids(&self, ty: &Ty, path: Vec<String>, out: &mut Vec<Vec<String>>, depth: usize) {
        if ty.name() == "ID" {
            out.push(path);
            return;
        }
        if depth > 2 {
            return;
        }
        if let Some(fields) = self.inputs.get(ty.name()) {
            for f in fields {
                let mut p = path.clone();
                p.push(f.name.clone());
                self.collect_ids(&f.ty, p, out, depth + 1);
            }
        }
    }
}

/// How hard the generator pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plausible values.
    Valid,
    /// Edges of the allowed ranges and other tenants' ids.
    Boundary,
    /// Malformed, extreme and injected values.
    Hostile,
}

/// Ids of objects by type name.
pub type Ids = HashMap<String, Vec<String>>;

/// A deterministic value generator (xorshift; seed it to reproduce a run).
pub struct Gen<'c> {
    state: u64,
    catalog: &'c Catalog,
    /// The caller's own objects.
    pub own: Ids,
    /// Another tenant's objects.
    pub foreign: Ids,
}

/// The object type an ID argument named `name` most likely refers to.
pub fn type_hint(name: &str) -> Option<String> {
    let base = name.strip_suffix("Ids").or_else(|| name.strip_suffix("Id"))?;
    let known = [
        ("assignee", "Membership"),
        ("manager", "Membership"),
        ("membership", "Membership"),
        ("owner", "Membership"),
        ("subject", "Membership"),
        ("recipient", "Membership"),
        ("dependsOn", "Task"),
        ("parent", "Task"),
    ];
    if let Some((_, t)) = known.iter().find(|(k, _)| *k == base) {
        return Some((*t).to_owned());
    }
    let mut c = base.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str())
}

impl<'c> Gen<'c> {
    /// A generator over `catalog` with `seed`.
    pub fn new(catalog: &'c Catalog, seed: u64, own: Ids, foreign: Ids) -> Self {
        Gen { state: seed.max(1), catalog, own, foreign }
    }

    /// Next pseudo-random number.
    pub fn roll(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            return None;
        }
        let i = (self.roll() % items.len() as u64) as usize;
        Some(items[i].clone())
    }

    fn id(&mut self, hint: Option<String>, mode: Mode) -> Value {
        let pool = |ids: &Ids| -> Vec<String> {
            match hint.as_ref().and_then(|h| ids.get(h)) {
                Some(v) => v.clone(),
                None => ids.values().flatten().cloned().collect(),
            }
        };
        match mode {
            Mode::Valid => self.pick(&pool(&self.own.clone())).map(Value::from).unwrap_or(json!("x")),
            Mode::Boundary => self.pick(&pool(&self.foreign.clone())).map(Value::from).unwrap_or(json!("x")),
            Mode::Hostile => {
                let wrong_type: Vec<String> = self.own.values().flatten().cloned().collect();
                let mut options = vec![
                    json!("123"),
                    json!(""),
                    json!("\u{0}"),
                    json!("A".repeat(3000)),
                    json!("VGFzazpub3QtYS11dWlk"),
                ];
                if let Some(w) = self.pick(&wrong_type) {
                    options.push(json!(w));
                }
                self.pick(&options).unwrap_or(Value::Null)
            }
        }
    }

    fn scalar(&mut self, name: &str, arg: &str, mode: Mode) -> Value {
        let options: Vec<Value> = match (name, mode) {
            ("ID", _) => return self.id(type_hint(arg), mode),
            ("String", Mode::Valid) => vec![json!(format!("fuzz {}", self.roll() % 1000))],
            ("String", Mode::Boundary) => vec![json!(""), json!(" "), json!("x".repeat(10_001))],
            ("String", Mode::Hostile) => {
                vec![json!("nul\u{0}byte"), json!("'; DROP TABLE tasks; --"), json!("\u{202e}evil"), json!("<script>")]
            }
            ("Int", Mode::Valid) => vec![json!(1), json!(3)],
            ("Int", Mode::Boundary) => vec![json!(0), json!(-1), json!(100), json!(101)],
            ("Int", Mode::Hostile) => vec![json!(i32::MAX), json!(i32::MIN)],
            ("Float", _) => vec![json!(0.5), json!(1e308), json!(-1e308)],
            ("Boolean", _) => vec![json!(true), json!(false)],
            ("Date", Mode::Valid) => vec![json!("2026-06-15")],
            ("Date", Mode::Boundary) => vec![json!("1900-01-01"), json!("2999-12-31")],
            ("Date", Mode::Hostile) => vec![json!("0000-01-01"), json!("2026-1-1"), json!("2026-02-30"), json!("")],
            ("DateTime", Mode::Valid) => vec![json!("2026-06-15T10:00:00Z")],
            ("DateTime", Mode::Boundary) => vec![json!("1900-01-01T00:00:00Z"), json!("2999-12-31T23:59:59+14:00")],
            ("DateTime", Mode::Hostile) => vec![json!("0001-01-01T00:00:00Z"), json!("yesterday"), json!("")],
            ("Decimal", Mode::Valid) => vec![json!("1.5"), json!("8")],
            ("Decimal", Mode::Boundary) => vec![json!("0"), json!("-1"), json!("99999999999999999999.99")],
            ("Decimal", Mode::Hostile) => vec![json!("1e400"), json!("NaN"), json!("abc")],
            ("EventSeq", Mode::Valid) => vec![json!("1")],
            ("EventSeq", _) => vec![json!("-1"), json!("99999999999999999999"), json!("9223372036854775807")],
            ("JSON", _) => vec![json!({}), json!({ "a": [1, "\u{0}"] })],
            _ => vec![json!("x")],
        };
        self.pick(&options).unwrap_or(Value::Null)
    }

    /// A value for `ty` (argument or field `arg`).
    pub fn value(&mut self, ty: &Ty, arg: &str, mode: Mode, depth: usize) -> Value {
        match ty {
            Ty::NonNull(t) => self.value(t, arg, mode, depth),
            Ty::List(t) => {
                if depth > 3 || (mode != Mode::Valid && self.roll().is_multiple_of(3)) {
                    json!([])
                } else {
                    json!([self.value(t, arg, mode, depth + 1)])
                }
            }
            Ty::Named(n) => {
                if let Some(values) = self.catalog.enums.get(n).cloned() {
                    return self.pick(&values).map(Value::from).unwrap_or(Value::Null);
                }
                if let Some(fields) = self.catalog.inputs.get(n).cloned() {
                    let mut obj = serde_json::Map::new();
                    for f in fields {
                        if depth < 3 && (f.ty.required() || self.roll().is_multiple_of(2)) {
                            obj.insert(f.name.clone(), self.value(&f.ty, &f.name, mode, depth + 1));
                        }
                    }
                    return Value::Object(obj);
                }
                self.scalar(n, arg, mode)
            }
        }
    }

    /// An operation calling `f` with generated arguments: (document, variables).
    pub fn operation(&mut self, f: &RootField, mode: Mode) -> (String, Value) {
        let mut defs = vec![];
        let mut args = vec![];
        let mut vars = serde_json::Map::new();
        for (i, a) in f.args.iter().enumerate() {
            if !a.ty.required() && self.roll().is_multiple_of(2) {
                continue;
            }
            defs.push(format!("$a{i}: {}", a.ty.sdl()));
            args.push(format!("{}: $a{i}", a.name));
            vars.insert(format!("a{i}"), self.value(&a.ty, &a.name, mode, 0));
        }
        (document(f, &defs, &args, self.catalog.selection(&f.ty)), Value::Object(vars))
    }

    /// An operation calling `f` with valid values and `foreign` at `path`.
    pub fn with_foreign_id(&mut self, f: &RootField, path: &[String], foreign: &str) -> (String, Value) {
        let mut defs = vec![];
        let mut args = vec![];
        let mut vars = serde_json::Map::new();
        for (i, a) in f.args.iter().enumerate() {
            let on_path = path.first() == Some(&a.name);
            if !a.ty.required() && !on_path {
                continue;
            }
            let mut v = self.value(&a.ty, &a.name, Mode::Valid, 0);
            if on_path {
                set_path(&mut v, &a.ty, &path[1..], foreign, self);
            }
            defs.push(format!("$a{i}: {}", a.ty.sdl()));
            args.push(format!("{}: $a{i}", a.name));
            vars.insert(format!("a{i}"), v);
        }
        (document(f, &defs, &args, self.catalog.selection(&f.ty)), Value::Object(vars))
    }
}

fn set_path(v: &mut Value, ty: &Ty, rest: &[String], foreign: &str, g: &mut Gen<'_>) {
    let list = matches!(ty, Ty::List(_)) || matches!(ty, Ty::NonNull(t) if matches!(**t, Ty::List(_)));
    if rest.is_empty() {
        *v = if list { json!([foreign]) } else { json!(foreign) };
        return;
    }
    if !v.is_object() {
        *v = json!({});
    }
    let fields = g.catalog.inputs.get(ty.name()).cloned().unwrap_or_default();
    if let Some(f) = fields.iter().find(|f| f.name == rest[0]) {
        let mut child = g.value(&f.ty, &f.name, Mode::Valid, 1);
        set_path(&mut child, &f.ty, &rest[1..], foreign, g);
        v[&rest[0]] = child;
    }
}

fn document(f: &RootField, defs: &[String], args: &[String], selection: &str) -> String {
    let defs = if defs.is_empty() { String::new() } else { format!("({})", defs.join(", ")) };
    let args = if args.is_empty() { String::new() } else { format!("({})", args.join(", ")) };
    format!("{}{defs} {{ {}{args}{selection} }}", f.op, f.name)
}
