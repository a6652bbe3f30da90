//! `query`: a small, documented subset of Cypher over a memory's graph.
//!
//! ```text
//! MATCH (n[:Label…] [{prop: literal, …}])
//!     | (a[:Label] [{…}])-[r[:TYPE|TYPE2] [{…}]]->(b[:Label] [{…}])   (also <-[…]- and -[…]-)
//! [WHERE expr]
//! RETURN [DISTINCT] expr [AS alias], …
//! [ORDER BY expr [ASC|DESC], …] [SKIP n] [LIMIT n]
//! ```
//!
//! Labels: `Entity` matches every entity, any other label an entity whose `entity_type` is that
//! label (case-insensitive); `RELATIONSHIP` matches relationships as rows (MeshAgent's
//! `MATCH (r:RELATIONSHIP)`), and the name of an `upsert_table` table matches its rows.
//! Expressions: properties (`n.name`; entity metadata keys too), literals, lists, `=`, `<>`,
//! `!=`, `<`, `<=`, `>`, `>=`, `AND`, `OR`, `XOR`, `NOT`, `IS [NOT] NULL`, `IN`, `CONTAINS`,
//! `STARTS WITH`, `ENDS WITH`, and the functions `count`, `id`, `type`, `labels`, `coalesce`,
//! `toLower`, `toUpper`, `toString`, `size`.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Number, Value};

use super::graph::{scan_entities, scan_relationships, scan_table};
use super::{MemoryDb, MemoryError, Result};

/// Rows a query may scan, and rows it may answer.
pub const MAX_SCAN: usize = 200_000;
pub const MAX_ROWS: usize = 10_000;
const MAX_STATEMENT: usize = 64 * 1024;
/// How deeply expressions may nest (parentheses, lists, calls, NOT, AND/OR chains): evaluation
/// recurses over the tree, so its depth stays small whatever the statement.
const MAX_DEPTH: usize = 128;

/// What an unsupported statement is told.
pub const SUPPORTED: &str = "roomdeck's memory query supports one MATCH of a node `(n:Label {prop: value})` \
or of one relationship `(a)-[r:TYPE]->(b)`, an optional WHERE (comparisons, AND/OR/NOT, IS NULL, IN, \
CONTAINS, STARTS WITH, ENDS WITH), RETURN [DISTINCT] items with AS, ORDER BY, SKIP and LIMIT";

fn unsupported<T>(what: impl std::fmt::Display) -> Result<T> {
    Err(MemoryError::Invalid(format!("{what}: {SUPPORTED}")))
}

/// A query's answer: column names and rows, values as plain JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

// --- tokens -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(Number),
    Punct(&'static str),
    Param(String),
}

impl std::fmt::Display for Tok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "{s}"),
            Tok::Str(s) => write!(f, "'{s}'"),
            Tok::Num(n) => write!(f, "{n}"),
            Tok::Punct(p) => write!(f, "{p}"),
            Tok::Param(p) => write!(f, "${p}"),
        }
    }
}

const PUNCTS: &[&str] = &[
    "<>", "!=", "<=", ">=", "->", "<-", "(", ")", "[", "]", "{", "}", ":", ",", ".", "-", "=", "<",
    ">", "*", "|", ";",
];

fn tokenize(s: &str) -> Result<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
            continue;
        }
        if c == '`' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != '`' {
                i += 1;
            }
            if i >= chars.len() {
                return unsupported("an identifier in backticks is not closed");
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
            i += 1;
            continue;
        }
        if c == '$' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Param(chars[start..i].iter().collect()));
            continue;
        }
        if c == '\'' || c == '"' {
            let quote = c;
            let mut text = String::new();
            i += 1;
            loop {
                let Some(&ch) = chars.get(i) else {
                    return unsupported("a string literal is not closed");
                };
                i += 1;
                if ch == quote {
                    break;
                }
                if ch == '\\' {
                    let Some(&esc) = chars.get(i) else {
                        return unsupported("a string literal is not closed");
                    };
                    i += 1;
                    text.push(match esc {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                } else {
                    text.push(ch);
                }
            }
            out.push(Tok::Str(text));
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let mut float = false;
            if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                float = true;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let n = if float {
                text.parse::<f64>().ok().and_then(Number::from_f64)
            } else {
                text.parse::<i64>().ok().map(Number::from)
            };
            match n {
                Some(n) => out.push(Tok::Num(n)),
                None => return unsupported(format!("the number `{text}` is out of range")),
            }
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => {
                out.push(Tok::Punct(p));
                i += p.chars().count();
            }
            None => return unsupported(format!("unexpected character `{c}`")),
        }
    }
    Ok(out)
}

// --- syntax -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Lit(Value),
    List(Vec<Expr>),
    Var(String),
    Prop(Box<Expr>, String),
    Func(String, Vec<Expr>),
    CountStar,
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Xor(Box<Expr>, Box<Expr>),
    Cmp(&'static str, Box<Expr>, Box<Expr>),
    IsNull(Box<Expr>, bool),
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Lit(Value::String(s)) => write!(f, "'{s}'"),
            Expr::Lit(v) => write!(f, "{v}"),
            Expr::List(items) => {
                let parts: Vec<String> = items.iter().map(|e| e.to_string()).collect();
                write!(f, "[{}]", parts.join(", "))
            }
            Expr::Var(v) => write!(f, "{v}"),
            Expr::Prop(e, p) => write!(f, "{e}.{p}"),
            Expr::Func(name, args) => {
                let parts: Vec<String> = args.iter().map(|e| e.to_string()).collect();
                write!(f, "{name}({})", parts.join(", "))
            }
            Expr::CountStar => write!(f, "count(*)"),
            Expr::Not(e) => write!(f, "NOT {e}"),
            Expr::And(a, b) => write!(f, "{a} AND {b}"),
            Expr::Or(a, b) => write!(f, "{a} OR {b}"),
            Expr::Xor(a, b) => write!(f, "{a} XOR {b}"),
            Expr::Cmp(op, a, b) => write!(f, "{a} {op} {b}"),
            Expr::IsNull(e, false) => write!(f, "{e} IS NULL"),
            Expr::IsNull(e, true) => write!(f, "{e} IS NOT NULL"),
        }
    }
}

impl Expr {
    fn is_aggregate(&self) -> bool {
        match self {
            Expr::CountStar => true,
            Expr::Func(name, args) => {
                name.eq_ignore_ascii_case("count") || args.iter().any(Expr::is_aggregate)
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct NodePat {
    var: Option<String>,
    labels: Vec<String>,
    props: Vec<(String, Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dir {
    Right,
    Left,
    Both,
}

#[derive(Debug, Clone)]
struct RelPat {
    var: Option<String>,
    types: Vec<String>,
    props: Vec<(String, Value)>,
    dir: Dir,
}

#[derive(Debug, Clone)]
struct Query {
    start: NodePat,
    rel: Option<(RelPat, NodePat)>,
    filter: Option<Expr>,
    distinct: bool,
    items: Vec<(Expr, String)>,
    order: Vec<(Expr, bool)>,
    skip: usize,
    limit: Option<usize>,
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

const CLAUSES_NOT_SUPPORTED: &[&str] = &[
    "CREATE", "MERGE", "DELETE", "DETACH", "SET", "REMOVE", "WITH", "UNWIND", "CALL", "UNION",
    "OPTIONAL", "FOREACH", "LOAD", "USE",
];

impl Parser {
    /// One level deeper in the expression tree; refused past `MAX_DEPTH`.
    fn deeper(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return unsupported(format!(
                "the expression nests more than {MAX_DEPTH} levels deep"
            ));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn is_kw_at(&self, offset: usize, kw: &str) -> bool {
        matches!(self.toks.get(self.pos + offset), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn near(&self) -> String {
        match self.peek() {
            Some(t) => format!("near `{t}`"),
            None => "at the end of the statement".into(),
        }
    }

    fn expect_punct(&mut self, p: &str) -> Result<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            unsupported(format!("expected `{p}` {}", self.near()))
        }
    }

    fn ident(&mut self, what: &str) -> Result<String> {
        match self.next() {
            Some(Tok::Ident(s)) => Ok(s),
            other => {
                self.pos -= 1;
                let _ = other;
                unsupported(format!("expected {what} {}", self.near()))
            }
        }
    }

    fn unsigned(&mut self, what: &str) -> Result<usize> {
        match self.next() {
            Some(Tok::Num(n)) if n.as_u64().is_some() => {
                Ok(usize::try_from(n.as_u64().unwrap_or(0)).unwrap_or(usize::MAX))
            }
            _ => {
                self.pos -= 1;
                unsupported(format!("{what} takes a whole number, {}", self.near()))
            }
        }
    }

    fn query(&mut self) -> Result<Query> {
        if let Some(Tok::Ident(kw)) = self.peek()
            && CLAUSES_NOT_SUPPORTED
                .iter()
                .any(|c| c.eq_ignore_ascii_case(kw))
        {
            return unsupported(format!("`{}` is not supported", kw.to_uppercase()));
        }
        if !self.eat_kw("MATCH") {
            return unsupported(format!("a query starts with MATCH, not {}", self.near()));
        }
        let start = self.node()?;
        let mut rel = None;
        if self.is_punct("-") || self.is_punct("<-") {
            let r = self.rel()?;
            let end = self.node()?;
            rel = Some((r, end));
        }
        if self.is_punct("-") || self.is_punct("<-") {
            return unsupported("paths of more than one relationship are not supported");
        }
        if self.is_punct(",") {
            return unsupported("several patterns in one MATCH are not supported");
        }
        let filter = if self.eat_kw("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        if self.is_kw("MATCH") {
            return unsupported("several MATCH clauses are not supported");
        }
        if !self.eat_kw("RETURN") {
            if let Some(Tok::Ident(kw)) = self.peek()
                && CLAUSES_NOT_SUPPORTED
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(kw))
            {
                return unsupported(format!("`{}` is not supported", kw.to_uppercase()));
            }
            return unsupported(format!("expected RETURN {}", self.near()));
        }
        let distinct = self.eat_kw("DISTINCT");
        let mut items = Vec::new();
        loop {
            if self.eat_punct("*") {
                return unsupported("`RETURN *` is not supported; name the variables");
            }
            let e = self.expr()?;
            let alias = if self.eat_kw("AS") {
                self.ident("an alias after AS")?
            } else {
                e.to_string()
            };
            items.push((e, alias));
            if !self.eat_punct(",") {
                break;
            }
        }
        let mut order = Vec::new();
        if self.is_kw("ORDER") {
            self.pos += 1;
            if !self.eat_kw("BY") {
                return unsupported(format!("expected BY after ORDER {}", self.near()));
            }
            loop {
                let e = self.expr()?;
                let desc = if self.eat_kw("DESC") || self.eat_kw("DESCENDING") {
                    true
                } else {
                    let _ = self.eat_kw("ASC") || self.eat_kw("ASCENDING");
                    false
                };
                order.push((e, desc));
                if !self.eat_punct(",") {
                    break;
                }
            }
        }
        let skip = if self.eat_kw("SKIP") {
            self.unsigned("SKIP")?
        } else {
            0
        };
        let limit = if self.eat_kw("LIMIT") {
            Some(self.unsigned("LIMIT")?)
        } else {
            None
        };
        let _ = self.eat_punct(";");
        if self.peek().is_some() {
            return unsupported(format!("unexpected {}", self.near()));
        }
        Ok(Query {
            start,
            rel,
            filter,
            distinct,
            items,
            order,
            skip,
            limit,
        })
    }

    fn props(&mut self) -> Result<Vec<(String, Value)>> {
        let mut props = Vec::new();
        if !self.eat_punct("{") {
            return Ok(props);
        }
        if self.eat_punct("}") {
            return Ok(props);
        }
        loop {
            let key = self.ident("a property name")?;
            self.expect_punct(":")?;
            let value = match self.atom()? {
                Expr::Lit(v) => v,
                Expr::List(items) => Value::Array(
                    items
                        .into_iter()
                        .map(|e| match e {
                            Expr::Lit(v) => Ok(v),
                            other => {
                                unsupported(format!("`{other}` in a pattern is not a literal"))
                            }
                        })
                        .collect::<Result<_>>()?,
                ),
                other => return unsupported(format!("`{other}` in a pattern is not a literal")),
            };
            props.push((key, value));
            if self.eat_punct("}") {
                return Ok(props);
            }
            self.expect_punct(",")?;
        }
    }

    fn node(&mut self) -> Result<NodePat> {
        self.expect_punct("(")?;
        let mut node = NodePat::default();
        if let Some(Tok::Ident(_)) = self.peek() {
            node.var = Some(self.ident("a variable")?);
        }
        while self.eat_punct(":") {
            node.labels.push(self.ident("a label")?);
        }
        node.props = self.props()?;
        self.expect_punct(")")?;
        Ok(node)
    }

    fn rel(&mut self) -> Result<RelPat> {
        let left = self.eat_punct("<-");
        if !left {
            self.expect_punct("-")?;
        }
        let mut rel = RelPat {
            var: None,
            types: Vec::new(),
            props: Vec::new(),
            dir: Dir::Both,
        };
        if self.eat_punct("[") {
            if let Some(Tok::Ident(_)) = self.peek() {
                rel.var = Some(self.ident("a variable")?);
            }
            if self.eat_punct(":") {
                rel.types.push(self.ident("a relationship type")?);
                while self.eat_punct("|") {
                    let _ = self.eat_punct(":");
                    rel.types.push(self.ident("a relationship type")?);
                }
            }
            if self.is_punct("*") {
                return unsupported("variable-length relationships (`*`) are not supported");
            }
            rel.props = self.props()?;
            self.expect_punct("]")?;
        }
        let right = if self.eat_punct("->") {
            true
        } else {
            self.expect_punct("-")?;
            false
        };
        rel.dir = match (left, right) {
            (true, true) => return unsupported("a relationship cannot point both ways"),
            (true, false) => Dir::Left,
            (false, true) => Dir::Right,
            (false, false) => Dir::Both,
        };
        Ok(rel)
    }

    fn expr(&mut self) -> Result<Expr> {
        let depth = self.depth;
        let mut left = self.xor_expr()?;
        while self.eat_kw("OR") {
            self.deeper()?;
            let right = self.xor_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth = depth;
        Ok(left)
    }

    fn xor_expr(&mut self) -> Result<Expr> {
        let depth = self.depth;
        let mut left = self.and_expr()?;
        while self.eat_kw("XOR") {
            self.deeper()?;
            let right = self.and_expr()?;
            left = Expr::Xor(Box::new(left), Box::new(right));
        }
        self.depth = depth;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr> {
        let depth = self.depth;
        let mut left = self.not_expr()?;
        while self.eat_kw("AND") {
            self.deeper()?;
            let right = self.not_expr()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        self.depth = depth;
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr> {
        if self.eat_kw("NOT") {
            let depth = self.depth;
            self.deeper()?;
            let inner = self.not_expr()?;
            self.depth = depth;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr> {
        let left = self.atom()?;
        for op in ["=", "<>", "!=", "<=", ">=", "<", ">"] {
            if self.eat_punct(op) {
                let right = self.atom()?;
                let op = if op == "!=" { "<>" } else { op };
                let op: &'static str = ["=", "<>", "<=", ">=", "<", ">"]
                    .into_iter()
                    .find(|o| *o == op)
                    .unwrap_or("=");
                return Ok(Expr::Cmp(op, Box::new(left), Box::new(right)));
            }
        }
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            if !self.eat_kw("NULL") {
                return unsupported(format!("expected NULL after IS {}", self.near()));
            }
            return Ok(Expr::IsNull(Box::new(left), negated));
        }
        if self.eat_kw("IN") {
            let right = self.atom()?;
            return Ok(Expr::Cmp("IN", Box::new(left), Box::new(right)));
        }
        if self.eat_kw("CONTAINS") {
            let right = self.atom()?;
            return Ok(Expr::Cmp("CONTAINS", Box::new(left), Box::new(right)));
        }
        if self.is_kw("STARTS") && self.is_kw_at(1, "WITH") {
            self.pos += 2;
            let right = self.atom()?;
            return Ok(Expr::Cmp("STARTS WITH", Box::new(left), Box::new(right)));
        }
        if self.is_kw("ENDS") && self.is_kw_at(1, "WITH") {
            self.pos += 2;
            let right = self.atom()?;
            return Ok(Expr::Cmp("ENDS WITH", Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr> {
        let depth = self.depth;
        self.deeper()?;
        let e = self.atom_inner();
        self.depth = depth;
        e
    }

    fn atom_inner(&mut self) -> Result<Expr> {
        let Some(tok) = self.next() else {
            return unsupported("the statement ends too early");
        };
        let mut e = match tok {
            Tok::Str(s) => Expr::Lit(Value::String(s)),
            Tok::Num(n) => Expr::Lit(Value::Number(n)),
            Tok::Param(p) => {
                return unsupported(format!(
                    "parameters (`${p}`) are not supported; write the value"
                ));
            }
            Tok::Punct("-") => match self.next() {
                Some(Tok::Num(n)) => Expr::Lit(negate(&n)),
                _ => return unsupported("`-` is only supported before a number"),
            },
            Tok::Punct("(") => {
                let e = self.expr()?;
                self.expect_punct(")")?;
                e
            }
            Tok::Punct("[") => {
                let mut items = Vec::new();
                if !self.eat_punct("]") {
                    loop {
                        items.push(self.expr()?);
                        if self.eat_punct("]") {
                            break;
                        }
                        self.expect_punct(",")?;
                    }
                }
                Expr::List(items)
            }
            Tok::Ident(word) => {
                if word.eq_ignore_ascii_case("true") {
                    Expr::Lit(Value::Bool(true))
                } else if word.eq_ignore_ascii_case("false") {
                    Expr::Lit(Value::Bool(false))
                } else if word.eq_ignore_ascii_case("null") {
                    Expr::Lit(Value::Null)
                } else if self.eat_punct("(") {
                    if word.eq_ignore_ascii_case("count") && self.eat_punct("*") {
                        self.expect_punct(")")?;
                        Expr::CountStar
                    } else {
                        let _ = self.eat_kw("DISTINCT");
                        let mut args = Vec::new();
                        if !self.eat_punct(")") {
                            loop {
                                args.push(self.expr()?);
                                if self.eat_punct(")") {
                                    break;
                                }
                                self.expect_punct(",")?;
                            }
                        }
                        check_function(&word, args.len())?;
                        Expr::Func(word, args)
                    }
                } else {
                    Expr::Var(word)
                }
            }
            other => {
                self.pos -= 1;
                let _ = other;
                return unsupported(format!("unexpected {}", self.near()));
            }
        };
        while self.eat_punct(".") {
            let key = self.ident("a property name after `.`")?;
            e = Expr::Prop(Box::new(e), key);
        }
        Ok(e)
    }
}

fn negate(n: &Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Number(Number::from(-i))
    } else {
        n.as_f64()
            .and_then(|f| Number::from_f64(-f))
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("count", 1, 1),
    ("id", 1, 1),
    ("type", 1, 1),
    ("labels", 1, 1),
    ("coalesce", 1, 64),
    ("tolower", 1, 1),
    ("toupper", 1, 1),
    ("tostring", 1, 1),
    ("size", 1, 1),
];

fn check_function(name: &str, args: usize) -> Result<()> {
    let lower = name.to_lowercase();
    match FUNCTIONS.iter().find(|(n, _, _)| *n == lower) {
        Some((_, min, max)) if (*min..=*max).contains(&args) => Ok(()),
        Some(_) => unsupported(format!("`{name}` takes a different number of arguments")),
        None => unsupported(format!(
            "the function `{name}` is not supported (there are count, id, type, labels, coalesce, toLower, toUpper, toString, size)"
        )),
    }
}

/// Parses a statement (exposed for tests and the CLI's checks).
pub fn parse(statement: &str) -> Result<()> {
    parse_query(statement).map(|_| ())
}

fn parse_query(statement: &str) -> Result<Query> {
    if statement.len() > MAX_STATEMENT {
        return Err(MemoryError::Invalid(format!(
            "the statement is longer than {MAX_STATEMENT} bytes"
        )));
    }
    let toks = tokenize(statement)?;
    Parser {
        toks,
        pos: 0,
        depth: 0,
    }
    .query()
}

// --- evaluation -------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Entity,
    Relationship,
    Row,
}

#[derive(Debug, Clone)]
struct Bound {
    kind: Kind,
    props: Arc<Map<String, Value>>,
}

type Binding = HashMap<String, Bound>;

impl Bound {
    fn prop(&self, key: &str) -> Value {
        if let Some(v) = self.props.get(key) {
            return v.clone();
        }
        if self.kind != Kind::Row
            && let Some(Value::Object(meta)) = self.props.get("metadata")
            && let Some(v) = meta.get(key)
        {
            return v.clone();
        }
        if key == "id" && self.kind == Kind::Entity {
            return self.props.get("entity_id").cloned().unwrap_or(Value::Null);
        }
        Value::Null
    }

    fn labels(&self) -> Vec<Value> {
        match self.kind {
            Kind::Entity => {
                let mut l = vec![Value::String("Entity".into())];
                if let Some(Value::String(t)) = self.props.get("entity_type") {
                    l.push(Value::String(t.clone()));
                }
                l
            }
            Kind::Relationship => vec![Value::String("RELATIONSHIP".into())],
            Kind::Row => Vec::new(),
        }
    }
}

fn entity_has_label(e: &Map<String, Value>, label: &str) -> bool {
    label.eq_ignore_ascii_case("Entity")
        || matches!(e.get("entity_type"), Some(Value::String(t)) if t.eq_ignore_ascii_case(label))
}

fn props_match(b: &Bound, props: &[(String, Value)]) -> bool {
    props
        .iter()
        .all(|(k, v)| equals(&b.prop(k), v) == Some(true))
}

fn as_f64(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// `=` with Cypher's null: None when either side is null.
fn equals(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Number(x), Value::Number(y)) => {
            Some(as_f64(&Value::Number(x.clone())) == as_f64(&Value::Number(y.clone())))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = Some(true);
            for (p, q) in x.iter().zip(y) {
                match equals(p, q) {
                    Some(false) => return Some(false),
                    None => all = None,
                    Some(true) => {}
                }
            }
            all
        }
        _ => Some(a == b),
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => as_f64(a)?.partial_cmp(&as_f64(b)?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The order ORDER BY sorts in: values of one type by value, null last.
fn sort_order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Object(_) => 0,
            Value::Array(_) => 1,
            Value::String(_) => 2,
            Value::Bool(_) => 3,
            Value::Number(_) => 4,
            Value::Null => 5,
        }
    }
    match compare(a, b) {
        Some(o) => o,
        None => match (a, b) {
            (Value::Array(x), Value::Array(y)) => {
                for (p, q) in x.iter().zip(y) {
                    let o = sort_order(p, q);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                x.len().cmp(&y.len())
            }
            _ => rank(a).cmp(&rank(b)),
        },
    }
}

fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

fn tri(v: Option<bool>) -> Value {
    v.map(Value::Bool).unwrap_or(Value::Null)
}

struct Eval<'a> {
    binding: &'a Binding,
}

impl Eval<'_> {
    fn bound(&self, name: &str) -> Result<&Bound> {
        self.binding.get(name).ok_or_else(|| {
            MemoryError::Invalid(format!("the variable `{name}` is not defined in the MATCH"))
        })
    }

    fn value(&self, e: &Expr) -> Result<Value> {
        Ok(match e {
            Expr::Lit(v) => v.clone(),
            Expr::List(items) => {
                Value::Array(items.iter().map(|i| self.value(i)).collect::<Result<_>>()?)
            }
            Expr::Var(name) => Value::Object((*self.bound(name)?.props).clone()),
            Expr::Prop(target, key) => match target.as_ref() {
                Expr::Var(name) => self.bound(name)?.prop(key),
                other => match self.value(other)? {
                    Value::Object(m) => m.get(key).cloned().unwrap_or(Value::Null),
                    _ => Value::Null,
                },
            },
            Expr::CountStar => {
                return Err(MemoryError::Invalid(
                    "count(*) is only allowed in RETURN".into(),
                ));
            }
            Expr::Func(name, args) => self.function(name, args)?,
            Expr::Not(inner) => tri(truth(&self.value(inner)?).map(|b| !b)),
            Expr::And(a, b) => {
                let (x, y) = (truth(&self.value(a)?), truth(&self.value(b)?));
                tri(match (x, y) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                })
            }
            Expr::Or(a, b) => {
                let (x, y) = (truth(&self.value(a)?), truth(&self.value(b)?));
                tri(match (x, y) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                })
            }
            Expr::Xor(a, b) => {
                let (x, y) = (truth(&self.value(a)?), truth(&self.value(b)?));
                tri(x.zip(y).map(|(x, y)| x != y))
            }
            Expr::IsNull(inner, negated) => Value::Bool(self.value(inner)?.is_null() != *negated),
            Expr::Cmp(op, a, b) => {
                let (x, y) = (self.value(a)?, self.value(b)?);
                tri(match *op {
                    "=" => equals(&x, &y),
                    "<>" => equals(&x, &y).map(|b| !b),
                    "<" => compare(&x, &y).map(|o| o == Ordering::Less),
                    "<=" => compare(&x, &y).map(|o| o != Ordering::Greater),
                    ">" => compare(&x, &y).map(|o| o == Ordering::Greater),
                    ">=" => compare(&x, &y).map(|o| o != Ordering::Less),
                    "IN" => match y {
                        Value::Array(items) => {
                            if x.is_null() {
                                None
                            } else if items.iter().any(|i| equals(&x, i) == Some(true)) {
                                Some(true)
                            } else if items.iter().any(Value::is_null) {
                                None
                            } else {
                                Some(false)
                            }
                        }
                        Value::Null => None,
                        _ => {
                            return Err(MemoryError::Invalid(format!(
                                "`{b}` after IN is not a list"
                            )));
                        }
                    },
                    "CONTAINS" | "STARTS WITH" | "ENDS WITH" => match (&x, &y) {
                        (Value::String(s), Value::String(t)) => Some(match *op {
                            "CONTAINS" => s.contains(t.as_str()),
                            "STARTS WITH" => s.starts_with(t.as_str()),
                            _ => s.ends_with(t.as_str()),
                        }),
                        _ => None,
                    },
                    _ => None,
                })
            }
        })
    }

    fn function(&self, name: &str, args: &[Expr]) -> Result<Value> {
        let lower = name.to_lowercase();
        if lower == "count" {
            return Err(MemoryError::Invalid(
                "count(…) is only allowed in RETURN".into(),
            ));
        }
        if lower == "coalesce" {
            for a in args {
                let v = self.value(a)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            return Ok(Value::Null);
        }
        let arg = args
            .first()
            .ok_or_else(|| MemoryError::Invalid(format!("`{name}` needs an argument")))?;
        if matches!(lower.as_str(), "id" | "type" | "labels") {
            let Expr::Var(var) = arg else {
                return Err(MemoryError::Invalid(format!(
                    "`{name}` takes a variable of the MATCH"
                )));
            };
            let b = self.bound(var)?;
            return Ok(match lower.as_str() {
                "id" => match b.kind {
                    Kind::Entity => b.prop("entity_id"),
                    _ => b.prop("id"),
                },
                "type" => match b.kind {
                    Kind::Relationship => b.prop("relationship_type"),
                    _ => Value::Null,
                },
                _ => Value::Array(b.labels()),
            });
        }
        let v = self.value(arg)?;
        Ok(match (lower.as_str(), v) {
            (_, Value::Null) => Value::Null,
            ("tolower", Value::String(s)) => Value::String(s.to_lowercase()),
            ("toupper", Value::String(s)) => Value::String(s.to_uppercase()),
            ("tostring", Value::String(s)) => Value::String(s),
            ("tostring", other) => Value::String(other.to_string()),
            ("size", Value::String(s)) => Value::from(s.chars().count() as u64),
            ("size", Value::Array(a)) => Value::from(a.len() as u64),
            (_, other) => {
                return Err(MemoryError::Invalid(format!(
                    "`{name}` cannot take {other}"
                )));
            }
        })
    }
}

/// The matches of the pattern, filtered by the pattern's labels and properties.
fn matches(c: &rusqlite::Connection, q: &Query) -> Result<Vec<Binding>> {
    let start = &q.start;
    let Some((rel, end)) = &q.rel else {
        let labels = &start.labels;
        let is_rel = labels
            .iter()
            .any(|l| l.eq_ignore_ascii_case("RELATIONSHIP"));
        let (kind, rows) = if is_rel {
            if labels.len() > 1 {
                return unsupported("`RELATIONSHIP` cannot be combined with other labels");
            }
            (Kind::Relationship, scan_relationships(c, MAX_SCAN)?)
        } else {
            let table = match labels.as_slice() {
                [one] if !one.eq_ignore_ascii_case("Entity") => scan_table(c, one, MAX_SCAN)?,
                _ => None,
            };
            match table {
                Some(rows) => (Kind::Row, rows),
                None => {
                    let mut all = scan_entities(c, MAX_SCAN)?;
                    all.retain(|e| labels.iter().all(|l| entity_has_label(e, l)));
                    (Kind::Entity, all)
                }
            }
        };
        let var = start.var.clone().unwrap_or_default();
        return Ok(rows
            .into_iter()
            .map(|props| Bound {
                kind,
                props: Arc::new(props),
            })
            .filter(|b| props_match(b, &start.props))
            .map(|b| HashMap::from([(var.clone(), b)]))
            .collect());
    };
    let entities: HashMap<String, Arc<Map<String, Value>>> = scan_entities(c, MAX_SCAN)?
        .into_iter()
        .filter_map(|e| {
            let id = e.get("entity_id")?.as_str()?.to_string();
            Some((id, Arc::new(e)))
        })
        .collect();
    let node_ok = |pat: &NodePat, e: &Arc<Map<String, Value>>| -> Option<Bound> {
        let b = Bound {
            kind: Kind::Entity,
            props: e.clone(),
        };
        (pat.labels.iter().all(|l| entity_has_label(e, l)) && props_match(&b, &pat.props))
            .then_some(b)
    };
    let mut out = Vec::new();
    for r in scan_relationships(c, MAX_SCAN)? {
        let rb = Bound {
            kind: Kind::Relationship,
            props: Arc::new(r),
        };
        let rtype = rb.prop("relationship_type");
        let type_ok = rel.types.is_empty()
            || rel
                .types
                .iter()
                .any(|t| matches!(&rtype, Value::String(s) if s.eq_ignore_ascii_case(t)));
        if !type_ok || !props_match(&rb, &rel.props) {
            continue;
        }
        let (Some(Value::String(src)), Some(Value::String(dst))) = (
            rb.props.get("source_entity_id"),
            rb.props.get("target_entity_id"),
        ) else {
            continue;
        };
        let (Some(src), Some(dst)) = (entities.get(src), entities.get(dst)) else {
            continue;
        };
        let orientations: &[(bool, bool)] = match rel.dir {
            Dir::Right => &[(true, false)],
            Dir::Left => &[(false, true)],
            Dir::Both => &[(true, false), (false, true)],
        };
        for &(forward, _) in orientations {
            let (a, b) = if forward { (src, dst) } else { (dst, src) };
            let (Some(ab), Some(bb)) = (node_ok(start, a), node_ok(end, b)) else {
                continue;
            };
            let mut binding = HashMap::new();
            if let Some(v) = &start.var {
                binding.insert(v.clone(), ab);
            }
            if let Some(v) = &rel.var {
                binding.insert(v.clone(), rb.clone());
            }
            if let Some(v) = &end.var {
                binding.insert(v.clone(), bb);
            }
            out.push(binding);
            if out.len() > MAX_SCAN {
                return unsupported(format!(
                    "the pattern matches more than {MAX_SCAN} paths; narrow it with labels or properties"
                ));
            }
        }
    }
    Ok(out)
}

struct OutRow {
    values: Vec<Value>,
    keys: Vec<Value>,
}

impl MemoryDb {
    /// Runs a statement of the supported Cypher subset.
    pub fn query(&self, statement: &str) -> Result<QueryResult> {
        let q = parse_query(statement)?;
        let bindings = self.with(|c| matches(c, &q))?;
        let mut bindings = bindings;
        if let Some(filter) = &q.filter {
            let mut kept = Vec::with_capacity(bindings.len());
            for b in bindings {
                if (Eval { binding: &b }).value(filter)? == Value::Bool(true) {
                    kept.push(b);
                }
            }
            bindings = kept;
        }
        let columns: Vec<String> = q.items.iter().map(|(_, alias)| alias.clone()).collect();
        let aggregate = q.items.iter().any(|(e, _)| e.is_aggregate());
        let order_key = |e: &Expr, values: &[Value], binding: Option<&Binding>| -> Result<Value> {
            let text = e.to_string();
            if let Some(i) = q
                .items
                .iter()
                .position(|(ie, alias)| *alias == text || ie.to_string() == text)
            {
                return Ok(values[i].clone());
            }
            match binding {
                Some(b) => Eval { binding: b }.value(e),
                None => Err(MemoryError::Invalid(format!(
                    "ORDER BY `{text}` must name a returned column when RETURN counts"
                ))),
            }
        };
        let mut rows: Vec<OutRow> = Vec::new();
        if aggregate {
            let mut groups: Vec<(Vec<Value>, Vec<u64>)> = Vec::new();
            let mut index: HashMap<String, usize> = HashMap::new();
            for b in &bindings {
                let ev = Eval { binding: b };
                let mut key = Vec::new();
                let mut counts = Vec::new();
                for (e, _) in &q.items {
                    match e {
                        Expr::CountStar => counts.push(1),
                        Expr::Func(name, args) if name.eq_ignore_ascii_case("count") => {
                            let v = ev.value(&args[0])?;
                            counts.push(u64::from(!v.is_null()));
                        }
                        e if e.is_aggregate() => {
                            return unsupported(format!("`{e}` mixes count with other functions"));
                        }
                        e => key.push(ev.value(e)?),
                    }
                }
                let k = Value::Array(key.clone()).to_string();
                match index.get(&k) {
                    Some(&i) => {
                        for (total, n) in groups[i].1.iter_mut().zip(counts) {
                            *total += n;
                        }
                    }
                    None => {
                        index.insert(k, groups.len());
                        groups.push((key, counts));
                    }
                }
            }
            if groups.is_empty() && q.items.iter().all(|(e, _)| e.is_aggregate()) {
                groups.push((Vec::new(), vec![0; q.items.len()]));
            }
            for (key, counts) in groups {
                let (mut key, mut counts) = (key.into_iter(), counts.into_iter());
                let values: Vec<Value> = q
                    .items
                    .iter()
                    .map(|(e, _)| {
                        if e.is_aggregate() {
                            Value::from(counts.next().unwrap_or(0))
                        } else {
                            key.next().unwrap_or(Value::Null)
                        }
                    })
                    .collect();
                let keys = q
                    .order
                    .iter()
                    .map(|(e, _)| order_key(e, &values, None))
                    .collect::<Result<_>>()?;
                rows.push(OutRow { values, keys });
            }
        } else {
            for b in &bindings {
                let ev = Eval { binding: b };
                let values: Vec<Value> = q
                    .items
                    .iter()
                    .map(|(e, _)| ev.value(e))
                    .collect::<Result<_>>()?;
                let keys = q
                    .order
                    .iter()
                    .map(|(e, _)| order_key(e, &values, Some(b)))
                    .collect::<Result<_>>()?;
                rows.push(OutRow { values, keys });
            }
        }
        if !q.order.is_empty() {
            rows.sort_by(|x, y| {
                for (i, (_, desc)) in q.order.iter().enumerate() {
                    let o = sort_order(&x.keys[i], &y.keys[i]);
                    let o = if *desc { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        if q.distinct {
            let mut seen = HashSet::new();
            rows.retain(|r| seen.insert(Value::Array(r.values.clone()).to_string()));
        }
        let rows: Vec<Vec<Value>> = rows
            .into_iter()
            .skip(q.skip)
            .take(q.limit.unwrap_or(usize::MAX))
            .map(|r| r.values)
            .collect();
        if rows.len() > MAX_ROWS {
            return Err(MemoryError::Invalid(format!(
                "the query answers more than {MAX_ROWS} rows; add LIMIT (and SKIP to page)"
            )));
        }
        Ok(QueryResult { columns, rows })
    }
}

/// A value in the SDK's dataset record encoding: lists as `{"list": …}`, objects as
/// `{"struct": …}` (what `decode_records` reads), scalars as they are.
pub fn encode_value(v: Value) -> Value {
    match v {
        Value::Array(items) => {
            serde_json::json!({ "list": items.into_iter().map(encode_value).collect::<Vec<_>>() })
        }
        Value::Object(m) => {
            let fields: Map<String, Value> =
                m.into_iter().map(|(k, v)| (k, encode_value(v))).collect();
            serde_json::json!({ "struct": fields })
        }
        other => other,
    }
}
