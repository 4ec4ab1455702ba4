//! The `Money` input scalar: the one money rule ([`crate::money::parse_plain`]) at the
//! edge of the API, so a bad amount is `BAD_USER_INPUT` before any resolver runs.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use rust_decimal::Decimal;

/// An exact money amount given to the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoneyInput(pub Decimal);

/// A money amount as input: a string of digits with an optional `.` and at most 4
/// decimal places (`"12.34"`), at most 99999999999.9999, never negative. No grouping,
/// currency, sign or exponent; `12,34` is refused. A JSON number is read by its decimal
/// text. Amounts are stored exactly as given, never rounded.
#[Scalar(name = "Money")]
impl ScalarType for MoneyInput {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(bad_input(InputValueError::expected_type(value))),
        };
        crate::money::parse_plain(&text)
            .map(MoneyInput)
            .map_err(|why| bad_input(InputValueError::custom(why)))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.normalize().to_string())
    }
}

fn bad_input(e: InputValueError<MoneyInput>) -> InputValueError<MoneyInput> {
    e.with_extension("code", "BAD_USER_INPUT")
}
