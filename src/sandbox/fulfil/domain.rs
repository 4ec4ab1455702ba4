//! The part of Tryton's search domain the emulator understands: a list of clauses
//! (implicitly AND), each `[field, operator, value]` or `["OR" | "AND", operand, ...]`
//! where an operand is a clause or a list of clauses. Operators: `=`, `!=`, `<`, `<=`,
//! `>`, `>=`, `in`, `not in`, `ilike`. Values may carry `__class__` markers.

use crate::connectors::fulfil::wire::{self, Product};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Text(String),
    Time(DateTime<Utc>),
}

fn field(p: &Product, name: &str) -> Result<Scalar, String> {
    let opt_text = |t: &Option<String>| t.clone().map(Scalar::Text).unwrap_or(Scalar::Null);
    let opt_dec = |d: Option<Decimal>| d.map(Scalar::Dec).unwrap_or(Scalar::Null);
    Ok(match name {
        "id" => Scalar::Int(p.id),
        "code" => opt_text(&p.code),
        "name" => opt_text(&p.name),
        "active" => Scalar::Bool(p.active),
        "write_date" => p.write_date.map(Scalar::Time).unwrap_or(Scalar::Null),
        "list_price" => opt_dec(p.list_price),
        "cost_price" => opt_dec(p.cost_price),
        "weight" => opt_dec(p.weight),
        other => return Err(format!("the emulator cannot filter on '{other}'")),
    })
}

/// A filter value shaped like the field it is compared with.
fn value_like(like: &Scalar, v: &Value) -> Result<Scalar, String> {
    if v.is_null() {
        return Ok(Scalar::Null);
    }
    Ok(match like {
        Scalar::Time(_) => wire::decode_datetime(v)?
            .map(Scalar::Time)
            .unwrap_or(Scalar::Null),
        Scalar::Dec(_) => wire::decode_decimal(v)?
            .map(Scalar::Dec)
            .unwrap_or(Scalar::Null),
        Scalar::Int(_) => Scalar::Int(v.as_i64().ok_or_else(|| format!("{v} is not an integer"))?),
        Scalar::Bool(_) => {
            Scalar::Bool(v.as_bool().ok_or_else(|| format!("{v} is not a boolean"))?)
        }
        Scalar::Text(_) | Scalar::Null => match v {
            Value::String(s) => Scalar::Text(s.clone()),
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => n.as_i64().map(Scalar::Int).unwrap_or(Scalar::Null),
            other => return Err(format!("cannot compare with {other}")),
        },
    })
}

fn compare(a: &Scalar, op: &str, b: &Scalar) -> Result<bool, String> {
    let ord = a.partial_cmp(b);
    Ok(match op {
        "=" => a == b,
        "!=" => a != b,
        "<" => ord == Some(Ordering::Less) && *a != Scalar::Null,
        "<=" => matches!(ord, Some(Ordering::Less | Ordering::Equal)) && *a != Scalar::Null,
        ">" => ord == Some(Ordering::Greater) && *b != Scalar::Null,
        ">=" => matches!(ord, Some(Ordering::Greater | Ordering::Equal)) && *a != Scalar::Null,
        "ilike" => match (a, b) {
            (Scalar::Text(a), Scalar::Text(p)) => {
                let needle = p.trim_matches('%').to_lowercase();
                a.to_lowercase().contains(&needle)
            }
            _ => false,
        },
        other => return Err(format!("unsupported operator '{other}'")),
    })
}

fn clause(p: &Product, c: &[Value]) -> Result<bool, String> {
    match c.first().and_then(Value::as_str) {
        Some("OR") => {
            for operand in &c[1..] {
                if operand_matches(p, operand)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Some("AND") => {
            for operand in &c[1..] {
                if !operand_matches(p, operand)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Some(name) => {
            let [_, op, value] = c else {
                return Err(format!(
                    "a clause has three parts: {}",
                    Value::from(c.to_vec())
                ));
            };
            let op = op.as_str().ok_or("operator must be a string")?;
            let actual = field(p, name)?;
            match op {
                "in" | "not in" => {
                    let list = value.as_array().ok_or("'in' needs a list")?;
                    let mut found = false;
                    for v in list {
                        found |= value_like(&actual, v)? == actual;
                    }
                    Ok(found == (op == "in"))
                }
                _ => compare(&actual, op, &value_like(&actual, value)?),
            }
        }
        None => matches(p, c),
    }
}

/// An operand: one clause, or a list of clauses (AND).
fn operand_matches(p: &Product, v: &Value) -> Result<bool, String> {
    let list = v.as_array().ok_or_else(|| format!("bad domain part {v}"))?;
    // A clause (or an OR/AND group) starts with a string; a list of clauses does not.
    if list.first().is_some_and(Value::is_string) {
        clause(p, list)
    } else {
        matches(p, list)
    }
}

/// Whether a product satisfies every clause of a domain.
pub fn matches(p: &Product, domain: &[Value]) -> Result<bool, String> {
    for c in domain {
        if !operand_matches(p, c)? {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(id: i64, at: &str, active: bool) -> Product {
        Product {
            id,
            code: Some(format!("C{id}")),
            name: None,
            weight: None,
            weight_uom: None,
            length: None,
            width: None,
            height: None,
            dimensions_uom: None,
            list_price: None,
            cost_price: None,
            active,
            write_date: DateTime::parse_from_rfc3339(at)
                .ok()
                .map(|d| d.with_timezone(&Utc)),
        }
    }

    #[test]
    fn keyset_domain_selects_rows_after_a_position() {
        let at = json!({"__class__": "datetime", "iso_string": "2026-01-01T00:00:00"});
        let domain = vec![
            json!(["active", "in", [true, false]]),
            json!([
                "OR",
                [["write_date", ">", at]],
                [["write_date", "=", at], ["id", ">", 5]]
            ]),
        ];
        let cases = [
            (p(1, "2026-01-01T00:00:01Z", true), true),
            (p(4, "2026-01-01T00:00:00Z", false), false),
            (p(6, "2026-01-01T00:00:00Z", false), true),
            (p(9, "2025-12-31T23:59:59Z", true), false),
        ];
        for (product, want) in cases {
            assert_eq!(matches(&product, &domain).unwrap(), want, "{}", product.id);
        }
    }

    #[test]
    fn codes_and_errors() {
        let a = p(1, "2026-01-01T00:00:00Z", true);
        assert!(matches(&a, &[json!(["code", "=", "C1"])]).unwrap());
        assert!(!matches(&a, &[json!(["code", "=", "C2"])]).unwrap());
        assert!(matches(&a, &[json!(["colour", "=", "red"])]).is_err());
        assert!(matches(&a, &[json!(["id", "~", 1])]).is_err());
    }
}
