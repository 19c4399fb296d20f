//! The query syntax of the sharing API's member searches (`q` of `community/users` and
//! `portals/self/users/search`), as Esri's "Search reference" describes it: single terms
//! and "quoted phrases", `field:value`, `*` and `?` wildcards, `[a TO b]` and `{a TO b}`
//! ranges, the operators AND, OR, NOT (in capitals), `+` and `-`, and parentheses, also
//! after a field (`role:(org_admin OR org_publisher)`).
//!
//! Terms side by side with no operator between them must all match. The reference, written
//! after Lucene's, calls OR the default; but the official client (2.4.x) scopes every
//! member search to the organization by appending ` accountid:<id>` with no operator
//! (`_portalpy.py`, `search_users`) and its `org_search` puts `-username:esri_...` terms
//! before the query the same way: both only work when side-by-side terms all have to
//! match, which is what the sandbox does (an unverified reading of real portals).
//!
//! A query that cannot be read (a parenthesis or quotation mark left open, an operator
//! with nothing after it) is refused as a real portal refuses it, with a 400.

use super::org::{PortalMember, ORG_ID};

mod filter;

pub(super) use filter::Filter;

/// A query, read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Query {
    /// The empty query, and `*`.
    All,
    Term {
        /// Lower case; None for the default fields.
        field: Option<String>,
        value: Value,
    },
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
}

/// What a term looks for, in lower case.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// A word, perhaps with `*` and `?` wildcards.
    Word(String),
    /// Words that must come one after another.
    Phrase(Vec<String>),
    /// `[low TO high]` (inclusive) or `{low TO high}` (exclusive); `*` for no bound.
    Range {
        low: String,
        high: String,
        inclusive: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Must,
    MustNot,
    /// `field:` before a value or a parenthesis.
    Field(String),
    Word(String),
    Phrase(String),
    Range(String, String, bool),
}

/// Why a query could not be read: the words a portal answers with, and the detail.
pub(super) fn syntax_error(detail: &str) -> String {
    format!("Unable to perform the search: {detail}.")
}

fn tokens(q: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            '+' | '-' if i + 1 < chars.len() && !chars[i + 1].is_whitespace() => {
                out.push(if c == '+' {
                    Token::Must
                } else {
                    Token::MustNot
                });
                i += 1;
            }
            '"' => {
                let end = (i + 1..chars.len())
                    .find(|&j| chars[j] == '"')
                    .ok_or_else(|| syntax_error("a quotation mark is not closed"))?;
                out.push(Token::Phrase(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '[' | '{' => {
                let close = if c == '[' { ']' } else { '}' };
                let end = (i + 1..chars.len())
                    .find(|&j| chars[j] == close)
                    .ok_or_else(|| syntax_error("a range is not closed"))?;
                let inner: String = chars[i + 1..end].iter().collect();
                let parts: Vec<&str> = inner.split_whitespace().collect();
                let [low, to, high] = parts[..] else {
                    return Err(syntax_error("a range must read [low TO high]"));
                };
                if to != "TO" {
                    return Err(syntax_error("a range must read [low TO high]"));
                }
                out.push(Token::Range(
                    low.trim_matches('"').to_lowercase(),
                    high.trim_matches('"').to_lowercase(),
                    c == '[',
                ));
                i = end + 1;
            }
            _ => {
                // A backslash takes the next character as it is (`username:\-x*`).
                let mut word = String::new();
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '"' | '[' | '{')
                    && (chars[i] != ':' || word.is_empty())
                {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                if i < chars.len() && chars[i] == ':' {
                    out.push(Token::Field(word.to_lowercase()));
                    i += 1;
                    continue;
                }
                out.push(match word.as_str() {
                    "AND" | "&&" => Token::And,
                    "OR" | "||" => Token::Or,
                    "NOT" | "!" => Token::Not,
                    _ => Token::Word(word),
                });
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn any(&mut self, field: Option<&str>) -> Result<Query, String> {
        let mut alternatives = vec![self.all(field)?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            alternatives.push(self.all(field)?);
        }
        Ok(if alternatives.len() == 1 {
            alternatives.remove(0)
        } else {
            Query::Or(alternatives)
        })
    }

    fn all(&mut self, field: Option<&str>) -> Result<Query, String> {
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                None | Some(Token::Or) | Some(Token::Close) => break,
                Some(Token::And) => {
                    self.at += 1;
                    if matches!(self.peek(), None | Some(Token::Or) | Some(Token::Close)) {
                        return Err(syntax_error("AND has nothing after it"));
                    }
                }
                _ => parts.push(self.one(field)?),
            }
        }
        if parts.is_empty() {
            return Err(syntax_error(
                "an operator or parenthesis has nothing beside it",
            ));
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::And(parts)
        })
    }

    fn one(&mut self, field: Option<&str>) -> Result<Query, String> {
        match self.next() {
            Some(Token::Not) | Some(Token::MustNot) => match self.peek() {
                None | Some(Token::Close) | Some(Token::Or) | Some(Token::And) => {
                    Err(syntax_error("NOT has nothing after it"))
                }
                _ => Ok(Query::Not(Box::new(self.one(field)?))),
            },
            Some(Token::Must) => self.one(field),
            Some(Token::Open) => {
                let inner = self.any(field)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(syntax_error("a parenthesis is not closed")),
                }
            }
            Some(Token::Field(name)) => match self.peek() {
                Some(Token::Open)
                | Some(Token::Word(_))
                | Some(Token::Phrase(_))
                | Some(Token::Range(..)) => self.one(Some(&name)),
                _ => Err(syntax_error(&format!("the field {name}: has no value"))),
            },
            Some(Token::Word(word)) => Ok(term(field, word_value(&word))),
            Some(Token::Phrase(text)) => {
                let words = analysed(&text);
                Ok(match words.len() {
                    0 => Query::All,
                    1 => term(field, Value::Word(words[0].clone())),
                    _ => term(field, Value::Phrase(words)),
                })
            }
            Some(Token::Range(low, high, inclusive)) => Ok(term(
                field,
                Value::Range {
                    low,
                    high,
                    inclusive,
                },
            )),
            Some(Token::Close) => Err(syntax_error("a parenthesis closes nothing")),
            Some(Token::And) | Some(Token::Or) | None => {
                Err(syntax_error("an operator has nothing before it"))
            }
        }
    }
}

fn term(field: Option<&str>, value: Value) -> Query {
    if field.is_none() && value == Value::Word("*".into()) {
        return Query::All;
    }
    Query::Term {
        field: field.map(str::to_owned),
        value,
    }
}

fn word_value(word: &str) -> Value {
    Value::Word(word.to_lowercase())
}

/// Read `q`; an empty query is [`Query::All`].
pub(super) fn parse(q: &str) -> Result<Query, String> {
    let tokens = tokens(q)?;
    if tokens.is_empty() {
        return Ok(Query::All);
    }
    let mut parser = Parser { tokens, at: 0 };
    let query = parser.any(None)?;
    match parser.peek() {
        None => Ok(query),
        Some(Token::Close) => Err(syntax_error("a parenthesis closes nothing")),
        Some(_) => Err(syntax_error("the query could not be read")),
    }
}

/// The words of a text field, as the search index splits it: lower case, split at anything
/// but letters and digits.
fn analysed(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// `pattern` (lower case, `*` any run, `?` one character) matches all of `text`.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn in_range(value: &str, low: &str, high: &str, inclusive: bool) -> bool {
    let order = |a: &str, b: &str| match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    };
    let above = low == "*" || {
        let o = order(value, low);
        o.is_gt() || (inclusive && o.is_eq())
    };
    let below = high == "*" || {
        let o = order(value, high);
        o.is_lt() || (inclusive && o.is_eq())
    };
    above && below
}

/// How a field is matched: as one keyword (a user name, an id), or as words (a name).
enum Field<'a> {
    Keywords(Vec<&'a str>),
    Text(Vec<&'a str>),
    Number(i64),
}

fn matches_value(field: &Field<'_>, value: &Value) -> bool {
    match (field, value) {
        (Field::Keywords(all), Value::Word(w)) => all.iter().any(|k| glob(w, k)),
        (Field::Keywords(all), Value::Phrase(words)) => {
            let wanted = words.join(" ");
            all.iter().any(|k| analysed(k).join(" ") == wanted)
        }
        (
            Field::Keywords(all),
            Value::Range {
                low,
                high,
                inclusive,
            },
        ) => all.iter().any(|k| in_range(k, low, high, *inclusive)),
        (Field::Text(all), Value::Word(w)) => all
            .iter()
            .any(|text| glob(w, text) || analysed(text).iter().any(|word| glob(w, word))),
        (Field::Text(all), Value::Phrase(words)) => all.iter().any(|text| {
            let have = analysed(text);
            have.windows(words.len()).any(|run| run == words.as_slice())
        }),
        (
            Field::Text(all),
            Value::Range {
                low,
                high,
                inclusive,
            },
        ) => all.iter().any(|k| in_range(k, low, high, *inclusive)),
        (Field::Number(n), Value::Word(w)) => glob(w, &n.to_string()),
        (
            Field::Number(n),
            Value::Range {
                low,
                high,
                inclusive,
            },
        ) => in_range(&n.to_string(), low, high, *inclusive),
        (Field::Number(_), Value::Phrase(_)) => false,
    }
}

impl Query {
    /// Whether `member` matches, as seen by a caller who sees e-mail addresses or not.
    pub(super) fn matches(&self, member: &PortalMember, sees_email: bool) -> bool {
        match self {
            Query::All => true,
            Query::And(parts) => parts.iter().all(|q| q.matches(member, sees_email)),
            Query::Or(parts) => parts.iter().any(|q| q.matches(member, sees_email)),
            Query::Not(inner) => !inner.matches(member, sees_email),
            Query::Term { field, value } => {
                let description = format!("{} department", member.department);
                let role = member.role();
                let fields: Vec<Field<'_>> = match field.as_deref() {
                    // The default fields of a member search.
                    None => vec![
                        Field::Keywords(vec![&member.username]),
                        Field::Text(vec![&member.username, &member.full_name]),
                        Field::Text(vec![&description, &member.department]),
                    ],
                    Some("username") => vec![Field::Keywords(vec![&member.username])],
                    Some("id") => vec![Field::Keywords(vec![&member.id])],
                    Some("fullname") => vec![Field::Text(vec![&member.full_name])],
                    Some("firstname") => vec![Field::Text(vec![&member.first_name])],
                    Some("lastname") => vec![Field::Text(vec![&member.last_name])],
                    Some("email") if sees_email => vec![Field::Keywords(vec![&member.email])],
                    Some("description") => vec![Field::Text(vec![&description])],
                    Some("tags") => vec![Field::Text(vec![&member.department])],
                    Some("role") => vec![Field::Keywords(vec![role.id, role.role])],
                    Some("roleid") => vec![Field::Keywords(vec![role.id])],
                    Some("userlicensetype") | Some("userlicensetypeid") => {
                        vec![Field::Keywords(vec![&member.user_type])]
                    }
                    Some("level") => vec![Field::Keywords(vec![member.level()])],
                    Some("orgid") | Some("accountid") => vec![Field::Keywords(vec![ORG_ID])],
                    Some("provider") => vec![Field::Keywords(vec!["arcgis"])],
                    Some("disabled") => vec![Field::Keywords(vec![if member.disabled {
                        "true"
                    } else {
                        "false"
                    }])],
                    Some("created") => vec![Field::Number(member.created)],
                    Some("modified") => vec![Field::Number(member.modified)],
                    Some("lastlogin") => vec![Field::Number(member.last_login)],
                    // A field the index does not have matches nothing, as in Lucene.
                    Some(_) => vec![],
                };
                fields.iter().any(|f| matches_value(f, value))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(field: Option<&str>, w: &str) -> Query {
        Query::Term {
            field: field.map(str::to_owned),
            value: Value::Word(w.into()),
        }
    }

    #[test]
    fn side_by_side_terms_must_all_match_and_or_binds_looser() {
        assert_eq!(
            parse("username:a* accountid:0123").unwrap(),
            Query::And(vec![
                word(Some("username"), "a*"),
                word(Some("accountid"), "0123")
            ])
        );
        assert_eq!(
            parse("a AND b OR c").unwrap(),
            Query::Or(vec![
                Query::And(vec![word(None, "a"), word(None, "b")]),
                word(None, "c")
            ])
        );
        assert_eq!(
            parse("-username:esri_nav (role:org_admin OR role:org_user)").unwrap(),
            Query::And(vec![
                Query::Not(Box::new(word(Some("username"), "esri_nav"))),
                Query::Or(vec![
                    word(Some("role"), "org_admin"),
                    word(Some("role"), "org_user")
                ]),
            ])
        );
        assert_eq!(
            parse("role:(org_admin OR org_user)").unwrap(),
            Query::Or(vec![
                word(Some("role"), "org_admin"),
                word(Some("role"), "org_user")
            ])
        );
        assert_eq!(
            parse("(a*) AND username:\\-\\.x*").unwrap(),
            Query::And(vec![word(None, "a*"), word(Some("username"), "-.x*")])
        );
        assert_eq!(parse("").unwrap(), Query::All);
        assert_eq!(parse("*").unwrap(), Query::All);
        assert_eq!(
            parse("fullname:\"Ann Lee\"").unwrap(),
            Query::Term {
                field: Some("fullname".into()),
                value: Value::Phrase(vec!["ann".into(), "lee".into()])
            }
        );
        assert_eq!(
            parse("created:[0000001249084800000 TO *]").unwrap(),
            Query::Term {
                field: Some("created".into()),
                value: Value::Range {
                    low: "0000001249084800000".into(),
                    high: "*".into(),
                    inclusive: true
                }
            }
        );
    }

    #[test]
    fn broken_queries_are_refused() {
        for q in [
            "(a OR b",
            "a)",
            "\"open",
            "a AND",
            "OR a",
            "NOT",
            "username:",
            "[1 TO",
            "x:[1 2]",
        ] {
            assert!(parse(q).is_err(), "{q} was read");
        }
    }

    #[test]
    fn wildcards_match_whole_values() {
        assert!(glob("a*", "Ann"));
        assert!(glob("*nn", "ann"));
        assert!(glob("a?n", "ann"));
        assert!(!glob("a?n", "annn"));
        assert!(glob("*", ""));
        assert!(!glob("b*", "ann"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
    }

    #[test]
    fn ranges_compare_numbers_as_numbers() {
        assert!(in_range("100", "0099", "200", true));
        assert!(!in_range("200", "100", "200", false));
        assert!(in_range("200", "100", "200", true));
        assert!(in_range("m", "a", "z", true));
        assert!(in_range("5", "*", "6", false));
    }
}
