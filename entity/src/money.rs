//! Exact money stored as canonical decimal text.
//!
//! SQLite has no exact decimal type (sqlx binds `Decimal` there as `f64`), so money is
//! stored as TEXT at a fixed scale on both backends: exact, portable, and castable with
//! `cost::numeric` on PostgreSQL for dashboards.

use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::DeriveValueType;
use sea_orm::sea_query::ValueTypeErr;
use std::fmt;
use std::str::FromStr;

/// Number of decimal places kept for every money amount.
pub const MONEY_SCALE: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, DeriveValueType)]
#[sea_orm(value_type = "String")]
pub struct Money(pub Decimal);

impl Money {
    /// Rounds half away from zero to [`MONEY_SCALE`] places.
    pub fn new(value: Decimal) -> Self {
        let mut v =
            value.round_dp_with_strategy(MONEY_SCALE, RoundingStrategy::MidpointAwayFromZero);
        v.rescale(MONEY_SCALE);
        Money(v)
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    /// The amount without trailing zeros, as the API shows it ("12.5", not "12.5000").
    pub fn display_amount(self) -> Decimal {
        self.0.normalize()
    }
}

impl From<Decimal> for Money {
    fn from(value: Decimal) -> Self {
        Money::new(value)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = self.0;
        v.rescale(MONEY_SCALE);
        write!(f, "{v}")
    }
}

impl FromStr for Money {
    type Err = ValueTypeErr;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str(s.trim())
            .map(Money::new)
            .map_err(|_| ValueTypeErr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_scale_round_trip() {
        let m: Money = "12.5".parse().unwrap();
        assert_eq!(m.to_string(), "12.5000");
        assert_eq!("12.50005".parse::<Money>().unwrap().to_string(), "12.5001");
        assert_eq!(m, "12.50".parse::<Money>().unwrap());
        assert!("abc".parse::<Money>().is_err());
    }
}
