//! The two wire formats of Open311 from one model: every answer is built once as a [`Node`]
//! tree and written either as XML (the required format; quick-xml, escaped, no namespace) or as
//! JSON (the "Spark convention" mapping of the XML: a list document is a JSON array, elements
//! become keys, a repeated element becomes an array). So the two formats cannot disagree on a
//! field.
//!
//! The format: the path's suffix decides (`.xml`, `.json`); without one, `?format=json|xml`,
//! then `Accept: application/json`; otherwise XML, the specification's default.
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// The content type of XML answers.
pub const XML: &str = "text/xml; charset=utf-8";
/// The content type of JSON answers.
pub const JSON: &str = "application/json; charset=utf-8";

/// An answer's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// `name` without its `.xml`/`.json` suffix, and the format the suffix names.
    pub fn split(name: &str) -> (&str, Option<Format>) {
        if let Some(n) = name.strip_suffix(".xml") {
            (n, Some(Format::Xml))
        } else if let Some(n) = name.strip_suffix(".json") {
            (n, Some(Format::Json))
        } else {
            (name, None)
        }
    }

    /// The format of an answer: the suffix's; else `?format=`; else `Accept` asking for JSON
    /// (and not for XML first); else XML.
    pub fn negotiate(suffix: Option<Format>, format: Option<&str>, headers: &HeaderMap) -> Format {
        if let Some(f) = suffix {
            return f;
        }
        match format.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
            Some("json") => return Format::Json,
            Some("xml") => return Format::Xml,
            _ => {}
        }
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        match (accept.find("json"), accept.find("xml")) {
            (Some(j), Some(x)) if j < x => Format::Json,
            (Some(_), None) => Format::Json,
            _ => Format::Xml,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => XML,
            Format::Json => JSON,
        }
    }
}

/// A value of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A text; `None` is JSON `null` and an empty XML element.
    Text(Option<String>),
    /// A number (JSON number; XML text).
    Num(f64),
    /// A whole number.
    Int(i64),
    Bool(bool),
    /// An element with children in this order (a JSON object).
    Obj(Vec<(&'static str, Node)>),
    /// A list: in XML a wrapper element whose children are all named by the first field, in
    /// JSON an array.
    List(&'static str, Vec<Node>),
}

impl Node {
    /// A text.
    pub fn text(s: impl Into<String>) -> Node {
        Node::Text(Some(s.into()))
    }

    /// An optional text.
    pub fn opt(s: Option<impl Into<String>>) -> Node {
        Node::Text(s.map(Into::into))
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Text(None) => s.serialize_none(),
            Node::Text(Some(t)) => s.serialize_str(t),
            Node::Num(n) => s.serialize_f64(*n),
            Node::Int(n) => s.serialize_i64(*n),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Obj(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Node::List(_, items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
        }
    }
}

/// A whole answer: a list document (`<services><service>…`, a JSON array) or one element
/// (`<discovery>…`, a JSON object).
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    List {
        root: &'static str,
        item: &'static str,
        items: Vec<Node>,
    },
    One {
        root: &'static str,
        node: Node,
    },
}

/// Drops the characters XML 1.0 cannot hold even escaped (control characters but tab, line
/// feed and carriage return; U+FFFE, U+FFFF).
fn xml_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let ok = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if s.chars().all(ok) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.chars().filter(|c| ok(*c)).collect())
    }
}

type W = Writer<Vec<u8>>;

fn element(w: &mut W, name: &str, node: &Node) -> std::io::Result<()> {
    let text = match node {
        Node::Text(None) => {
            return w.write_event(Event::Empty(BytesStart::new(name)));
        }
        Node::Text(Some(t)) => t.clone(),
        Node::Num(n) => n.to_string(),
        Node::Int(n) => n.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Obj(fields) => {
            w.write_event(Event::Start(BytesStart::new(name)))?;
            for (k, v) in fields {
                element(w, k, v)?;
            }
            return w.write_event(Event::End(BytesEnd::new(name)));
        }
        Node::List(item, items) => {
            w.write_event(Event::Start(BytesStart::new(name)))?;
            for i in items {
                element(w, item, i)?;
            }
            return w.write_event(Event::End(BytesEnd::new(name)));
        }
    };
    if text.is_empty() {
        return w.write_event(Event::Empty(BytesStart::new(name)));
    }
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(&xml_safe(&text))))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

impl Doc {
    /// The XML document (declaration, one root element).
    pub fn xml(&self) -> std::io::Result<Vec<u8>> {
        let mut w = Writer::new(Vec::new());
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
        match self {
            Doc::List { root, item, items } => {
                element(&mut w, root, &Node::List(item, items.clone()))?;
            }
            Doc::One { root, node } => element(&mut w, root, node)?,
        }
        Ok(w.into_inner())
    }

    /// The JSON document.
    pub fn json(&self) -> serde_json::Result<Vec<u8>> {
        match self {
            Doc::List { items, .. } => serde_json::to_vec(items),
            Doc::One { node, .. } => serde_json::to_vec(node),
        }
    }

    /// The answer in `format` with `status`.
    pub fn respond(&self, format: Format, status: StatusCode) -> Response {
        let body = match format {
            Format::Xml => self.xml().map_err(|e| e.to_string()),
            Format::Json => self.json().map_err(|e| e.to_string()),
        };
        match body {
            Ok(bytes) => {
                let mut resp = (status, bytes).into_response();
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(format.content_type()),
                );
                resp
            }
            Err(e) => Open311Error::internal(e).respond(format),
        }
    }
}

/// An error as the specification answers it: the HTTP status, and a body of one `error` with a
/// `code` (here always the HTTP status) and a `description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Error {
    pub status: StatusCode,
    pub description: String,
    /// Seconds, for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl Open311Error {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            retry_after: None,
        }
    }
    /// 400: a missing or invalid parameter.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }
    /// 404: an unknown jurisdiction, service, request or token.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }
    /// 403: a missing, unknown or revoked API key.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, description)
    }
    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many requests; retry after {} s.",
                    retry_after_secs.max(1)
                ),
            )
        }
    }
    /// 500, the detail logged, not sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = ?detail.to_string(), "Open311: internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
    }

    /// The error document.
    pub fn doc(&self) -> Doc {
        Doc::List {
            root: "errors",
            item: "error",
            items: vec![Node::Obj(vec![
                ("code", Node::Int(i64::from(self.status.as_u16()))),
                ("description", Node::text(self.description.clone())),
            ])],
        }
    }

    /// The error answered in `format`.
    pub fn respond(&self, format: Format) -> Response {
        let body = match format {
            Format::Xml => self.doc().xml().unwrap_or_default(),
            Format::Json => self.doc().json().unwrap_or_default(),
        };
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<cityops_app::ServiceError> for Open311Error {
    /// The application's errors as the specification's statuses: unknown things 404, a
    /// refused key or role 403, too many requests 429, every other failure of the request 400,
    /// the store's failures 500.
    fn from(e: cityops_app::ServiceError) -> Self {
        use cityops_app::ServiceError as E;
        match e {
            E::NotFound(m) => Self::not_found(m),
            E::Forbidden(m) => Self::forbidden(m),
            E::RateLimited { retry_after_secs } => Self::rate_limited(retry_after_secs),
            E::OutsideCity => Self::bad_request("The location (lat, long) lies outside the city."),
            E::TooLong(t) => Self::bad_request(t.to_string()),
            E::Invalid(m) | E::Conflict(m) => Self::bad_request(m),
            E::InvalidTransition { message, .. } => Self::bad_request(message),
            E::Store(e) => Self::from(e),
            other => Self::bad_request(other.to_string()),
        }
    }
}

impl From<cityops_store::StoreError> for Open311Error {
    fn from(e: cityops_store::StoreError) -> Self {
        use cityops_store::StoreError as E;
        match e {
            E::NotFound => Self::not_found("Not found."),
            E::Invalid(m) | E::Conflict(m) => Self::bad_request(m),
            E::Database(m) => Self::internal(format_args!("store: {m}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Doc {
        Doc::List {
            root: "services",
            item: "service",
            items: vec![Node::Obj(vec![
                ("service_code", Node::text("M06010")),
                ("service_name", Node::text("暴露垃圾 <&> \"x\"\u{1}")),
                ("metadata", Node::Bool(true)),
                ("description", Node::Text(None)),
                ("lat", Node::Num(23.09)),
                (
                    "keywords",
                    Node::List("keyword", vec![Node::text("a"), Node::text("b")]),
                ),
            ])],
        }
    }

    #[test]
    fn xml_is_escaped_and_declared() {
        let xml = String::from_utf8(doc().xml().unwrap()).unwrap();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service>\
             <service_code>M06010</service_code>\
             <service_name>暴露垃圾 &lt;&amp;&gt; &quot;x&quot;</service_name>\
             <metadata>true</metadata><description/><lat>23.09</lat>\
             <keywords><keyword>a</keyword><keyword>b</keyword></keywords></service></services>"
        );
    }

    #[test]
    fn json_keeps_the_order_and_nulls() {
        let json = String::from_utf8(doc().json().unwrap()).unwrap();
        assert_eq!(
            json,
            r#"[{"service_code":"M06010","service_name":"暴露垃圾 <&> \"x\"\u0001","metadata":true,"description":null,"lat":23.09,"keywords":["a","b"]}]"#
        );
    }

    #[test]
    fn the_suffix_decides_then_format_then_accept() {
        let mut h = HeaderMap::new();
        assert_eq!(
            Format::split("services.json"),
            ("services", Some(Format::Json))
        );
        assert_eq!(
            Format::split("services.xml"),
            ("services", Some(Format::Xml))
        );
        assert_eq!(Format::split("services"), ("services", None));
        assert_eq!(Format::negotiate(None, None, &h), Format::Xml);
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(Format::negotiate(None, None, &h), Format::Json);
        assert_eq!(Format::negotiate(None, Some("xml"), &h), Format::Xml);
        assert_eq!(
            Format::negotiate(Some(Format::Xml), Some("json"), &h),
            Format::Xml
        );
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/xml, application/json"),
        );
        assert_eq!(Format::negotiate(None, None, &h), Format::Xml);
    }

    #[test]
    fn errors_as_the_specification_writes_them() {
        let e = Open311Error::forbidden("Invalid api_key.");
        assert_eq!(
            String::from_utf8(e.doc().json().unwrap()).unwrap(),
            r#"[{"code":403,"description":"Invalid api_key."}]"#
        );
        assert_eq!(
            String::from_utf8(e.doc().xml().unwrap()).unwrap(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>403</code>\
             <description>Invalid api_key.</description></error></errors>"
        );
    }
}
