//! How a built-in tool describes itself in `room.list_toolkits`: its arguments as a JSON
//! Schema (`input_spec`) and the kind of answer it gives (`output_spec`), in the shape the
//! SDK's `ToolContentSpec.from_json` reads: `{"types": [...], "stream": bool, "schema": {...}}`.
//!
//! Each toolkit module lists its tools as `const` rows built with the small constructors
//! here, so a tool's schema sits next to its name and description.

use serde_json::{Map, Value, json};

/// The JSON type of one argument.
#[derive(Clone, Copy)]
pub(crate) enum Ty {
    Str,
    Int,
    Num,
    Bool,
    /// A JSON object of any shape.
    Object,
    /// A list of strings.
    StrList,
    /// A list of JSON objects.
    ObjList,
    /// A list of numbers (a vector).
    NumList,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// An object whose values are strings.
    StrMap,
    /// A list of objects, or one object.
    ObjListOrObject,
    /// Any JSON value.
    Any,
}

impl Ty {
    fn schema(self) -> Map<String, Value> {
        let v = match self {
            Ty::Str => json!({"type": "string"}),
            Ty::Int => json!({"type": "integer"}),
            Ty::Num => json!({"type": "number"}),
            Ty::Bool => json!({"type": "boolean"}),
            Ty::Object => json!({"type": "object"}),
            Ty::StrList => json!({"type": "array", "items": {"type": "string"}}),
            Ty::ObjList => json!({"type": "array", "items": {"type": "object"}}),
            Ty::NumList => json!({"type": "array", "items": {"type": "number"}}),
            Ty::OneOf(values) => json!({"type": "string", "enum": values}),
            Ty::StrMap => {
                json!({"type": "object", "additionalProperties": {"type": "string"}})
            }
            Ty::ObjListOrObject => json!({"type": ["array", "object"]}),
            Ty::Any => json!({}),
        };
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

/// One argument of a tool.
#[derive(Clone, Copy)]
pub(crate) struct Arg {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
    /// The value the tool takes when the argument is absent, as JSON text.
    pub default: Option<&'static str>,
}

/// A required argument.
pub(crate) const fn req(name: &'static str, ty: Ty, doc: &'static str) -> Arg {
    Arg {
        name,
        ty,
        required: true,
        doc,
        default: None,
    }
}

/// An optional argument; the SDK sends `null` for one it leaves unset, so null is accepted.
pub(crate) const fn opt(name: &'static str, ty: Ty, doc: &'static str) -> Arg {
    Arg {
        name,
        ty,
        required: false,
        doc,
        default: None,
    }
}

impl Arg {
    /// The same optional argument with the value the tool takes in its absence.
    pub const fn or(self, default: &'static str) -> Arg {
        Arg {
            default: Some(default),
            ..self
        }
    }

    fn schema(&self) -> Value {
        let mut s = self.ty.schema();
        if !self.required {
            // `{"type": T}` becomes `{"type": [T, "null"]}`; a typeless schema takes null already.
            match s.get_mut("type") {
                Some(Value::Array(types)) => types.push(json!("null")),
                Some(t) => *t = json!([t.clone(), "null"]),
                None => {}
            }
            if let Some(values) = s.get_mut("enum").and_then(Value::as_array_mut) {
                values.push(Value::Null);
            }
        }
        s.insert("description".into(), json!(self.doc));
        if let Some(d) = self.default.and_then(|d| serde_json::from_str(d).ok()) {
            s.insert("default".into(), d);
        }
        Value::Object(s)
    }
}

/// Which Content a tool takes or gives, and whether as a stream.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    pub types: &'static [&'static str],
    pub stream: bool,
}

/// A unary call with JSON arguments.
pub(crate) const JSON: Shape = Shape {
    types: &["json"],
    stream: false,
};
/// A unary call whose arguments are a binary Content's headers (the data travels beside).
pub(crate) const BINARY: Shape = Shape {
    types: &["binary"],
    stream: false,
};
/// A unary call that takes JSON, or binary with the arguments as headers.
pub(crate) const JSON_OR_BINARY: Shape = Shape {
    types: &["json", "binary"],
    stream: false,
};
/// A request stream whose first (start) chunk carries the arguments as headers.
pub(crate) const STREAM: Shape = Shape {
    types: &["binary"],
    stream: true,
};
/// A request stream whose first chunk is JSON arguments (`messaging.stream`).
pub(crate) const JSON_STREAM: Shape = Shape {
    types: &["json"],
    stream: true,
};

/// What a tool answers: one Content of these types, or a stream of them.
pub(crate) const ANSWERS_JSON: Shape = JSON;
pub(crate) const ANSWERS_EMPTY: Shape = Shape {
    types: &["empty"],
    stream: false,
};
pub(crate) const ANSWERS_JSON_OR_EMPTY: Shape = Shape {
    types: &["json", "empty"],
    stream: false,
};
pub(crate) const ANSWERS_BINARY: Shape = BINARY;
pub(crate) const ANSWERS_FILE_OR_EMPTY: Shape = Shape {
    types: &["file", "empty"],
    stream: false,
};
pub(crate) const ANSWERS_STREAM: Shape = STREAM;

/// One tool of a built-in toolkit.
pub(crate) struct Tool {
    pub name: &'static str,
    pub description: &'static str,
    pub input: Shape,
    /// The arguments (for streams: the start chunk's).
    pub args: &'static [Arg],
    pub output: Shape,
    /// Whether a call changes the room in a way its log tells in words (`actions.rs`).
    pub writes: bool,
}

/// A unary tool taking JSON arguments and answering JSON.
pub(crate) const fn tool(
    name: &'static str,
    description: &'static str,
    args: &'static [Arg],
) -> Tool {
    Tool {
        name,
        description,
        input: JSON,
        args,
        output: ANSWERS_JSON,
        writes: false,
    }
}

impl Tool {
    /// The same tool taking its arguments in another shape (binary headers, a stream).
    pub const fn takes(self, input: Shape) -> Tool {
        Tool { input, ..self }
    }

    /// The same tool answering in another shape.
    pub const fn answers(self, output: Shape) -> Tool {
        Tool { output, ..self }
    }

    /// The same tool marked as changing the room: each call's action is logged in words.
    pub const fn writes(self) -> Tool {
        Tool {
            writes: true,
            ..self
        }
    }

    /// The JSON Schema of the arguments: an object with one property per argument.
    pub fn input_schema(&self) -> Value {
        let mut properties = Map::new();
        if self.input.stream && !self.args.is_empty() {
            properties.insert(
                "kind".into(),
                json!({"type": ["string", "null"], "enum": ["start", null],
                       "description": "marks the stream's first chunk (`start`)"}),
            );
        }
        for a in self.args {
            properties.insert(a.name.into(), a.schema());
        }
        let required: Vec<&str> = self
            .args
            .iter()
            .filter(|a| a.required)
            .map(|a| a.name)
            .collect();
        json!({"type": "object", "properties": properties, "required": required})
    }

    /// The tool's entry in `room.list_toolkits`.
    pub fn describe(&self) -> Value {
        json!({
            "title": self.name,
            "description": self.description,
            "input_spec": {
                "types": self.input.types,
                "stream": self.input.stream,
                "schema": self.input_schema(),
            },
            "output_spec": {"types": self.output.types, "stream": self.output.stream},
        })
    }
}

/// The tools of an open SQL query, the same in the dataset and sqlite toolkits (one
/// implementation serves both).
const QUERY_ID: Arg = req("query_id", Ty::Str, "the id `open_sql_query` answered");
pub(crate) const READ_SQL_QUERY: Tool = tool(
    "read_sql_query",
    "Read an open query's rows as Arrow batches (stream)",
    &[QUERY_ID],
)
.takes(STREAM)
.answers(ANSWERS_STREAM);
pub(crate) const CLOSE_SQL_QUERY: Tool =
    tool("close_sql_query", "Close an open query", &[QUERY_ID]).answers(ANSWERS_EMPTY);
pub(crate) const CANCEL_SQL_QUERY: Tool =
    tool("cancel_sql_query", "Interrupt an open query", &[QUERY_ID]);

/// `open_sql_query` and `execute_sql_statement`, the same in both toolkits but for their SQL
/// arguments (the dataset's table references, sqlite's database).
pub(crate) const fn open_sql_query(sql: &'static [Arg]) -> Tool {
    tool(
        "open_sql_query",
        "Run a SQL query and keep its result open",
        sql,
    )
    .takes(JSON_OR_BINARY)
    .answers(ANSWERS_BINARY)
}
pub(crate) const fn execute_sql_statement(sql: &'static [Arg]) -> Tool {
    tool("execute_sql_statement", "Run a SQL statement", sql).takes(JSON_OR_BINARY)
}

/// Arguments many tools share.
pub(crate) const VALUES: Arg = req(
    "values",
    Ty::ObjListOrObject,
    "the new values: a list of {`column`, `value_json`} (the value JSON-encoded), \
     or an object of column -> value",
);
pub(crate) const NAMESPACE: Arg = opt(
    "namespace",
    Ty::StrList,
    "the namespace: a path of names (absent = the room's root namespace)",
);
