//! Weight and length conversions in exact decimals.
//!
//! Items keep SI measures (`weight_kg`, `*_cm`) at full precision: every factor to SI is
//! exact (1 lb = 0.45359237 kg and 1 in = 2.54 cm by definition), so nothing is rounded on
//! the way in. Rounding happens once, on the way out to a provider that wants imperial
//! units: pounds to 4 places and inches to 2 places, both half-even (banker's rounding, so
//! a long run of conversions does not drift upwards).

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// Places kept when writing pounds (0.0001 lb ≈ 0.05 g).
pub const LB_PLACES: u32 = 4;
/// Places kept when writing inches (0.01 in ≈ 0.25 mm).
pub const IN_PLACES: u32 = 2;

const KG_PER_LB: Decimal = Decimal::from_parts(45_359_237, 0, 0, false, 8);
/// 0.028349523125 (1/16 lb); the mantissa 28,349,523,125 needs the middle word.
const KG_PER_OZ: Decimal = Decimal::from_parts(2_579_719_349, 6, 0, false, 12);
const CM_PER_IN: Decimal = Decimal::from_parts(254, 0, 0, false, 2);

/// Kilograms in one unit of weight, by its usual symbol or name.
fn kg_per(unit: &str) -> Option<Decimal> {
    Some(match unit.trim().to_ascii_lowercase().as_str() {
        "kg" | "kilogram" | "kilograms" => Decimal::ONE,
        "g" | "gram" | "grams" => Decimal::new(1, 3),
        "mg" | "milligram" | "milligrams" => Decimal::new(1, 6),
        "lb" | "lbs" | "pound" | "pounds" => KG_PER_LB,
        "oz" | "ounce" | "ounces" => KG_PER_OZ,
        _ => return None,
    })
}

/// Centimetres in one unit of length.
fn cm_per(unit: &str) -> Option<Decimal> {
    Some(match unit.trim().to_ascii_lowercase().as_str() {
        "cm" | "centimeter" | "centimetre" | "centimeters" | "centimetres" => Decimal::ONE,
        "mm" | "millimeter" | "millimetre" | "millimeters" | "millimetres" => Decimal::new(1, 1),
        "m" | "meter" | "metre" | "meters" | "metres" => Decimal::ONE_HUNDRED,
        "in" | "inch" | "inches" => CM_PER_IN,
        "ft" | "foot" | "feet" => CM_PER_IN * Decimal::from(12),
        _ => return None,
    })
}

/// `value` in `unit` as kilograms, exact.
pub fn to_kg(value: Decimal, unit: &str) -> Result<Decimal, String> {
    kg_per(unit)
        .map(|f| (value * f).normalize())
        .ok_or_else(|| format!("unknown weight unit '{unit}'"))
}

/// `value` in `unit` as centimetres, exact.
pub fn to_cm(value: Decimal, unit: &str) -> Result<Decimal, String> {
    cm_per(unit)
        .map(|f| (value * f).normalize())
        .ok_or_else(|| format!("unknown length unit '{unit}'"))
}

/// Rounded half-even and written with exactly `places` decimals ("1.0000", not "1").
fn fixed(value: Decimal, places: u32) -> Decimal {
    let mut out = value.round_dp_with_strategy(places, RoundingStrategy::MidpointNearestEven);
    out.rescale(places);
    out
}

/// Kilograms as pounds, 4 places half-even.
pub fn kg_to_lb(kg: Decimal) -> Decimal {
    fixed(kg / KG_PER_LB, LB_PLACES)
}

/// Centimetres as inches, 2 places half-even.
pub fn cm_to_in(cm: Decimal) -> Decimal {
    fixed(cm / CM_PER_IN, IN_PLACES)
}

/// Parses a decimal held as canonical text (`"1.25"`), as items store measures.
pub fn parse(text: &str) -> Option<Decimal> {
    Decimal::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn weights_reach_pounds_exactly_rounded() {
        // (value, unit, kg exact, lb at 4 dp half-even)
        let cases = [
            ("1", "kg", "1", "2.2046"),
            ("0.45359237", "kg", "0.45359237", "1.0000"),
            ("2.5", "kg", "2.5", "5.5116"),
            ("500", "g", "0.5", "1.1023"),
            ("1", "g", "0.001", "0.0022"),
            ("0", "kg", "0", "0.0000"),
            ("3", "lb", "1.36077711", "3.0000"),
            ("12.3456", "lb", "5.599869963072", "12.3456"),
            ("16", "oz", "0.45359237", "1.0000"),
            ("1000", "kg", "1000", "2204.6226"),
            ("0.1", "KG", "0.1", "0.2205"),
        ];
        for (v, unit, kg, lb) in cases {
            let got = to_kg(d(v), unit).unwrap();
            assert_eq!(got, d(kg), "{v} {unit} → kg");
            assert_eq!(kg_to_lb(got).to_string(), lb, "{v} {unit} → lb");
        }
    }

    #[test]
    fn lengths_reach_inches_exactly_rounded() {
        // (value, unit, cm exact, in at 2 dp half-even)
        let cases = [
            ("2.54", "cm", "2.54", "1.00"),
            ("10", "cm", "10", "3.94"),
            ("100", "mm", "10", "3.94"),
            ("1", "m", "100", "39.37"),
            ("0.5", "m", "50", "19.69"),
            ("12", "in", "30.48", "12.00"),
            ("1", "ft", "30.48", "12.00"),
            ("3.175", "cm", "3.175", "1.25"),
            // 0.0127 cm = 0.005 in exactly: half-even keeps the even 0.00.
            ("0.127", "mm", "0.0127", "0.00"),
            // 0.0381 cm = 0.015 in exactly: half-even goes to the even 0.02.
            ("0.0381", "cm", "0.0381", "0.02"),
        ];
        for (v, unit, cm, inch) in cases {
            let got = to_cm(d(v), unit).unwrap();
            assert_eq!(got, d(cm), "{v} {unit} → cm");
            assert_eq!(cm_to_in(got).to_string(), inch, "{v} {unit} → in");
        }
    }

    #[test]
    fn constants_are_exact() {
        assert_eq!(KG_PER_LB, d("0.45359237"));
        assert_eq!(KG_PER_OZ, d("0.028349523125"));
        assert_eq!(CM_PER_IN, d("2.54"));
    }

    #[test]
    fn weight_midpoints_round_half_even() {
        // 0.00005 lb and 0.00015 lb exactly, expressed in kg.
        let half = d("0.00005") * KG_PER_LB;
        let one_and_half = d("0.00015") * KG_PER_LB;
        assert_eq!(kg_to_lb(half).to_string(), "0.0000");
        assert_eq!(kg_to_lb(one_and_half).to_string(), "0.0002");
    }

    #[test]
    fn unknown_units_are_errors() {
        assert!(to_kg(Decimal::ONE, "stone").is_err());
        assert!(to_cm(Decimal::ONE, "furlong").is_err());
        assert!(to_kg(Decimal::ONE, "").is_err());
    }
}
