//! The one money rule, for CSV files, GraphQL input and the admin UI (which mirrors
//! [`parse_plain`] in its money input). Pure: no I/O.
//!
//! - **GraphQL and the UI** take a plain decimal: digits, optionally one `.` and at most
//!   [`SCALE`] decimal places (`12.34`). No sign, grouping, currency or exponent.
//! - **A CSV file's decimal separator is decided once per file**: from an explicit
//!   `decimalSeparator` (the `uploadCsv` argument, `import-csv --decimal-separator`, or
//!   the mapping's `decimalSeparator`), else from the cells that show it unambiguously
//!   (`12,5`, `1.234,50`, `1,234,567`, `0.500`). A cell whose separator could be either
//!   (`1.500`, `1,500`: one separator followed by exactly three digits) is read with the
//!   file's separator, and is a per-line error when the file's separator is unknown —
//!   never a guess. A cell that contradicts an explicit separator is an error too.
//! - **Every amount fits what is stored**: at most [`SCALE`] decimal places (more is an
//!   error, not rounding) and at most [`MAX_INTEGER_DIGITS`] digits before the point
//!   (99,999,999,999.9999: 15 significant digits, which survive the JSON-number round
//!   trip of every upstream API exactly). Amounts are never negative.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Decimal places stored for every money amount.
pub const SCALE: u32 = entity::money::MONEY_SCALE;
/// Digits before the decimal point, at most.
pub const MAX_INTEGER_DIGITS: usize = 11;

/// How a file writes its decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecimalSeparator {
    /// `1,234.50`
    Point,
    /// `1.234,50`
    Comma,
}

impl DecimalSeparator {
    pub fn char(self) -> char {
        match self {
            Self::Point => '.',
            Self::Comma => ',',
        }
    }

    /// `"."` / `","` (also `point` / `comma`, any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "." | "point" | "dot" => Some(Self::Point),
            "," | "comma" => Some(Self::Comma),
            _ => None,
        }
    }

    fn of(c: char) -> Self {
        if c == ',' { Self::Comma } else { Self::Point }
    }
}

/// What a single cell says about the file's decimal separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// No `.` or `,`: a whole amount, whatever the convention.
    Whole,
    /// The cell can only be read one way, and that way uses this separator for decimals.
    Shows(DecimalSeparator),
    /// One `.` or `,` followed by exactly three digits: a decimal point or a thousands
    /// separator — only the file's convention can tell.
    Ambiguous,
}

/// A money cell as people and spreadsheets write it, with currency and spaces removed.
struct Cleaned {
    text: String,
}

fn clean(raw: &str) -> Result<Cleaned, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("is empty".into());
    }
    let bad = || format!("'{s}' is not an amount");
    let mut t: String = s
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£'))
        .map(|c| {
            if matches!(c, '\u{a0}' | '\u{202f}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    t = t.trim().to_owned();
    if let Some(rest) = t.strip_prefix("USD").or_else(|| t.strip_suffix("USD")) {
        t = rest.trim().to_owned();
    }
    if t.starts_with('-') || (t.starts_with('(') && t.ends_with(')')) {
        return Err(format!("'{s}' is negative; amounts cannot be negative"));
    }
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | ' ' | '\''))
        || !t.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(bad());
    }
    Ok(Cleaned { text: t })
}

/// How one cell writes its decimals (see [`Shape`]). `Err` when it is not an amount at all.
pub fn shape(raw: &str) -> Result<Shape, String> {
    let t = clean(raw)?.text;
    Ok(shape_of(&t))
}

fn shape_of(t: &str) -> Shape {
    let dots = t.matches('.').count();
    let commas = t.matches(',').count();
    match (dots, commas) {
        (0, 0) => Shape::Whole,
        // Both: the last one is the decimal separator.
        (d, c) if d > 0 && c > 0 => {
            let last = t.rfind(['.', ',']).map(|i| t.as_bytes()[i] as char);
            Shape::Shows(DecimalSeparator::of(last.unwrap_or('.')))
        }
        // One kind, several times: it groups thousands, so decimals use the other one.
        (d, 0) if d > 1 => Shape::Shows(DecimalSeparator::Comma),
        (0, c) if c > 1 => Shape::Shows(DecimalSeparator::Point),
        // One separator: a thousands separator only if three digits follow and what
        // precedes is a first group (1–3 digits, no leading zero, no other grouping).
        _ => {
            let i = t.rfind(['.', ',']).unwrap_or(0);
            let sep = DecimalSeparator::of(t.as_bytes()[i] as char);
            let (before, after) = (&t[..i], &t[i + 1..]);
            let could_group = after.len() == 3
                && after.chars().all(|c| c.is_ascii_digit())
                && (1..=3).contains(&before.len())
                && before.chars().all(|c| c.is_ascii_digit())
                && !before.starts_with('0');
            if could_group {
                Shape::Ambiguous
            } else {
                Shape::Shows(sep)
            }
        }
    }
}

/// What the cells of one file say about its decimal separator, gathered before reading it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// First line (and cell) showing `.` as the decimal separator.
    pub point: Option<(u64, String)>,
    /// First line (and cell) showing `,`.
    pub comma: Option<(u64, String)>,
}

impl Evidence {
    pub fn add(&mut self, line: u64, raw: &str) {
        let slot = match shape(raw) {
            Ok(Shape::Shows(DecimalSeparator::Point)) => &mut self.point,
            Ok(Shape::Shows(DecimalSeparator::Comma)) => &mut self.comma,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some((line, raw.trim().to_owned()));
        }
    }

    /// The file's convention: the explicit one, else what the cells agree on.
    pub fn decide(&self, explicit: Option<DecimalSeparator>) -> Convention {
        if let Some(sep) = explicit {
            return Convention::Explicit(sep);
        }
        match (&self.point, &self.comma) {
            (Some(_), None) => Convention::Shown(DecimalSeparator::Point),
            (None, Some(_)) => Convention::Shown(DecimalSeparator::Comma),
            (None, None) => Convention::Unknown,
            (Some(p), Some(c)) => Convention::Mixed {
                point: p.clone(),
                comma: c.clone(),
            },
        }
    }
}

/// A file's decimal separator, decided once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Convention {
    /// Given by the caller; cells that contradict it are errors.
    Explicit(DecimalSeparator),
    /// Every cell that shows a separator shows this one.
    Shown(DecimalSeparator),
    /// No cell shows one.
    Unknown,
    /// Cells show both; each such cell is read as written, ambiguous ones are errors.
    Mixed {
        point: (u64, String),
        comma: (u64, String),
    },
}

impl Convention {
    fn separator(&self) -> Option<DecimalSeparator> {
        match self {
            Self::Explicit(s) | Self::Shown(s) => Some(*s),
            _ => None,
        }
    }

    /// A file-level note for the import's warnings, when the file mixes separators.
    pub fn warning(&self) -> Option<String> {
        match self {
            Self::Mixed { point, comma } => Some(format!(
                "the file writes decimals both with '.' (line {} '{}') and with ',' (line {} '{}'); amounts that could be read either way are refused — set decimalSeparator",
                point.0, point.1, comma.0, comma.1
            )),
            _ => None,
        }
    }
}

/// Reads one CSV money cell with the file's convention. Errors are phrased to follow the
/// column name (`cost '1.500' is ambiguous: …`).
pub fn parse_cell(raw: &str, convention: &Convention) -> Result<Decimal, String> {
    let s = raw.trim();
    let t = clean(raw)?.text;
    let shape = shape_of(&t);
    let sep = match (shape, convention) {
        (Shape::Shows(shown), Convention::Explicit(sep)) if shown != *sep => {
            return Err(format!(
                "'{s}' writes its decimals with '{}', but the decimal separator is set to '{}'",
                shown.char(),
                sep.char()
            ));
        }
        (Shape::Shows(shown), _) => shown,
        (Shape::Whole, _) => DecimalSeparator::Point,
        (Shape::Ambiguous, c) => match c.separator() {
            Some(sep) => sep,
            None => {
                return Err(format!(
                    "'{s}' is ambiguous: '{}' may be a decimal separator or a thousands separator, and the file does not show which{}; set decimalSeparator",
                    t.chars().find(|c| matches!(c, '.' | ',')).unwrap_or('.'),
                    if matches!(c, Convention::Mixed { .. }) {
                        " (it uses both)"
                    } else {
                        ""
                    }
                ));
            }
        },
    };
    let bad = || format!("'{s}' is not an amount");
    let (int_part, frac_part) = match t.rfind(sep.char()) {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t.as_str(), ""),
    };
    if t.ends_with(sep.char()) || !frac_part.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let groupers: Vec<char> = int_part
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    match groupers.as_slice() {
        [] => {}
        [g] if *g != sep.char() => {
            if !groups_of_three(int_part, *g) {
                return Err(bad());
            }
        }
        _ => return Err(bad()),
    }
    let digits: String = int_part.chars().filter(char::is_ascii_digit).collect();
    exact(s, &digits, frac_part)
}

/// `1,234,567` grouped by `sep`: a first group of 1–3 digits, then groups of exactly 3.
fn groups_of_three(s: &str, sep: char) -> bool {
    let mut parts = s.split(sep);
    let first = parts.next().unwrap_or_default();
    let ok_first = (1..=3).contains(&first.len()) && first.chars().all(|c| c.is_ascii_digit());
    let mut any = false;
    let rest_ok = parts.all(|p| {
        any = true;
        p.len() == 3 && p.chars().all(|c| c.is_ascii_digit())
    });
    ok_first && rest_ok && any
}

/// GraphQL and UI money: `12`, `12.5`, `12.3456`. Errors name the rule.
pub fn parse_plain(text: &str) -> Result<Decimal, String> {
    let shown = text.trim();
    let rule = || {
        format!(
            "'{shown}' is not a money amount: write digits with an optional '.' and at most {SCALE} decimal places, like 12.34"
        )
    };
    if text != shown || shown.is_empty() {
        return Err(rule());
    }
    if shown.starts_with('-') {
        return Err(format!("'{shown}' is negative; amounts cannot be negative"));
    }
    let (int_part, frac_part) = shown.split_once('.').unwrap_or((shown, ""));
    let all_digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if int_part.is_empty()
        || !all_digits(int_part)
        || !all_digits(frac_part)
        || (shown.contains('.') && frac_part.is_empty())
    {
        return Err(rule());
    }
    exact(shown, int_part, frac_part)
}

/// Checks an amount already held as a decimal against what is stored (scale, size, sign).
pub fn check(value: Decimal) -> Result<Decimal, String> {
    let text = value.to_string();
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("'{text}' is negative; amounts cannot be negative"));
    }
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    exact(&text, int_part.trim_start_matches('-'), frac_part)
}

/// `int_part.frac_part` (digits only) as an exact decimal within the stored precision.
fn exact(shown: &str, int_part: &str, frac_part: &str) -> Result<Decimal, String> {
    let frac = frac_part.trim_end_matches('0');
    if frac.len() > SCALE as usize {
        return Err(format!(
            "'{shown}' has more than {SCALE} decimal places; money is stored with {SCALE}"
        ));
    }
    let int = int_part.trim_start_matches('0');
    if int.len() > MAX_INTEGER_DIGITS {
        return Err(format!(
            "'{shown}' is too large; amounts are at most {}",
            largest()
        ));
    }
    let int = if int.is_empty() { "0" } else { int };
    let plain = if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    };
    Decimal::from_str(&plain).map_err(|_| format!("'{shown}' is not an amount"))
}

/// The largest amount, as a message shows it.
pub fn largest() -> String {
    format!(
        "{}.{}",
        "9".repeat(MAX_INTEGER_DIGITS),
        "9".repeat(SCALE as usize)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecimalSeparator::{Comma, Point};

    fn dec(s: &str) -> Decimal {
        s.parse().expect("decimal literal")
    }

    fn read(raw: &str, c: &Convention) -> Decimal {
        parse_cell(raw, c).unwrap_or_else(|e| panic!("{raw} with {c:?}: {e}"))
    }

    fn refused(raw: &str, c: &Convention) -> String {
        match parse_cell(raw, c) {
            Ok(v) => panic!("{raw} with {c:?} read as {v}"),
            Err(e) => e,
        }
    }

    #[test]
    fn shapes_of_cells() {
        for (cell, expected) in [
            ("12", Shape::Whole),
            ("1 234", Shape::Whole),
            ("$ 7", Shape::Whole),
            ("12.5", Shape::Shows(Point)),
            ("12,5", Shape::Shows(Comma)),
            ("12.50", Shape::Shows(Point)),
            ("1.2345", Shape::Shows(Point)),
            ("1,234.50", Shape::Shows(Point)),
            ("1.234,50", Shape::Shows(Comma)),
            ("2.345,50", Shape::Shows(Comma)),
            ("1,234,567", Shape::Shows(Point)),
            ("1.234.567", Shape::Shows(Comma)),
            ("0.500", Shape::Shows(Point)),
            ("0,500", Shape::Shows(Comma)),
            ("1234.567", Shape::Shows(Point)),
            ("1 234,567", Shape::Shows(Comma)),
            ("1.500", Shape::Ambiguous),
            ("1,500", Shape::Ambiguous),
            ("999,000", Shape::Ambiguous),
            ("$1,234", Shape::Ambiguous),
        ] {
            assert_eq!(shape(cell), Ok(expected), "{cell}");
        }
        assert!(shape("abc").is_err());
        assert!(shape("").is_err());
    }

    #[test]
    fn a_file_decides_once_from_the_cells_that_show_it() {
        let mut e = Evidence::default();
        e.add(2, "1.500");
        e.add(3, "7");
        assert_eq!(e.decide(None), Convention::Unknown);
        e.add(4, "2.345,50");
        e.add(5, "1,50");
        assert_eq!(e.decide(None), Convention::Shown(Comma));
        assert_eq!(e.comma, Some((4, "2.345,50".into())));
        assert_eq!(e.decide(Some(Point)), Convention::Explicit(Point));
        e.add(6, "1,234.50");
        let mixed = e.decide(None);
        assert_eq!(
            mixed,
            Convention::Mixed {
                point: (6, "1,234.50".into()),
                comma: (4, "2.345,50".into())
            }
        );
        assert!(mixed.warning().unwrap().contains("line 6 '1,234.50'"));
        assert_eq!(Convention::Shown(Point).warning(), None);
    }

    #[test]
    fn the_issue_file_with_its_decimal_comma() {
        // `;`-delimited, European: 2.345,50 and 1,50 show the decimal comma.
        let c = Convention::Shown(Comma);
        assert_eq!(read("2.345,50", &c), dec("2345.5"));
        assert_eq!(read("1.500,00", &c), dec("1500"));
        assert_eq!(read("1.500", &c), dec("1500"));
        assert_eq!(read("1,500", &c), dec("1.5"));
        assert_eq!(read("1,50", &c), dec("1.5"));
        assert_eq!(read("12", &c), dec("12"));
    }

    #[test]
    fn with_a_decimal_point() {
        let c = Convention::Shown(Point);
        assert_eq!(read("1.500", &c), dec("1.5"));
        assert_eq!(read("1,500", &c), dec("1500"));
        assert_eq!(read("$1,234.50", &c), dec("1234.5"));
        assert_eq!(read("1,234,567.8901", &c), dec("1234567.8901"));
        assert_eq!(read("  12.5 ", &c), dec("12.5"));
        assert_eq!(read("$ 0.99", &c), dec("0.99"));
        assert_eq!(read("€9", &c), dec("9"));
        assert_eq!(read("1'234.50", &c), dec("1234.5"));
        assert_eq!(read("1 234.50", &c), dec("1234.5"));
        assert_eq!(read("1\u{a0}234.50", &c), dec("1234.5"));
        assert_eq!(read("USD 5", &c), dec("5"));
        assert_eq!(read("0", &c), dec("0"));
        assert_eq!(read("0.0000", &c), dec("0"));
    }

    #[test]
    fn ambiguous_cells_are_errors_when_the_file_does_not_say() {
        for c in [
            Convention::Unknown,
            Convention::Mixed {
                point: (2, "1.5".into()),
                comma: (3, "1,5".into()),
            },
        ] {
            for cell in ["1.500", "1,500", "$1,234", "999.000"] {
                let e = refused(cell, &c);
                assert!(
                    e.contains("ambiguous") && e.contains("decimalSeparator"),
                    "{e}"
                );
            }
            // Cells that show their separator read as written, whatever the file does.
            assert_eq!(read("1,234.50", &c), dec("1234.5"));
            assert_eq!(read("1.234,50", &c), dec("1234.5"));
            assert_eq!(read("12,5", &c), dec("12.5"));
            assert_eq!(read("0.500", &c), dec("0.5"));
            assert_eq!(read("1 234", &c), dec("1234"));
        }
    }

    #[test]
    fn an_explicit_separator_reads_ambiguous_cells_and_refuses_contradictions() {
        let comma = Convention::Explicit(Comma);
        assert_eq!(read("1.500", &comma), dec("1500"));
        assert_eq!(read("1,500", &comma), dec("1.5"));
        assert_eq!(read("1.234.567,8", &comma), dec("1234567.8"));
        let e = refused("1,234.50", &comma);
        assert!(e.contains("writes its decimals with '.'"), "{e}");
        assert!(refused("12.5", &comma).contains("set to ','"));
        let point = Convention::Explicit(Point);
        assert_eq!(read("1,500", &point), dec("1500"));
        assert_eq!(read("1.500", &point), dec("1.5"));
        assert!(refused("12,5", &point).contains("set to '.'"));
    }

    #[test]
    fn more_places_than_stored_and_too_large_are_errors_not_rounding() {
        let c = Convention::Shown(Point);
        let e = refused("1.00005", &c);
        assert!(e.contains("more than 4 decimal places"), "{e}");
        assert_eq!(
            read("1.00050", &c),
            dec("1.0005"),
            "trailing zeros are fine"
        );
        let e = refused("9999999999999999999999999999.9999", &c);
        assert!(
            e.contains("too large") && e.contains("99999999999.9999"),
            "{e}"
        );
        assert_eq!(read("99999999999.9999", &c), dec("99999999999.9999"));
        assert!(refused("100000000000", &c).contains("too large"));
        assert_eq!(
            read("000000000000001", &c),
            dec("1"),
            "leading zeros are not size"
        );
        assert!(refused("100,000,000,000.00", &c).contains("too large"));
    }

    #[test]
    fn what_is_not_an_amount() {
        for c in [Convention::Unknown, Convention::Shown(Point)] {
            for bad in [
                "abc",
                "1,23,4",
                "12.3.4x",
                "1..2",
                "$",
                "1e5",
                "12,34,5",
                "1.2.3,4,5",
                ".5",
                "12.",
                "1 23",
                "1,2 345.5",
                "+5",
                "1,234.5.6",
            ] {
                let e = refused(bad, &c);
                assert!(
                    e.contains("not an amount") || e.contains("ambiguous"),
                    "{bad}: {e}"
                );
            }
            assert_eq!(refused("", &c), "is empty");
            assert!(refused("-5", &c).contains("negative"));
            assert!(refused("(5.00)", &c).contains("negative"));
        }
    }

    #[test]
    fn plain_amounts_for_graphql_and_the_ui() {
        assert_eq!(parse_plain("12"), Ok(dec("12")));
        assert_eq!(parse_plain("12.34"), Ok(dec("12.34")));
        assert_eq!(parse_plain("0.0001"), Ok(dec("0.0001")));
        assert_eq!(parse_plain("12.340000"), Ok(dec("12.34")));
        assert_eq!(parse_plain("99999999999.9999"), Ok(dec("99999999999.9999")));
        for bad in [
            "12,34", "1,234.50", "1 234", "$12", "12.", ".5", "", " 12", "1e3", "+1", "1_000",
            "0x10", "NaN", "12.34.5",
        ] {
            let e = parse_plain(bad).unwrap_err();
            assert!(e.contains("not a money amount"), "{bad}: {e}");
        }
        assert!(
            parse_plain("12.34567")
                .unwrap_err()
                .contains("more than 4 decimal places")
        );
        assert!(parse_plain("-1").unwrap_err().contains("negative"));
        assert!(
            parse_plain("9999999999999999999999999999.9999")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn decimals_already_parsed_are_checked_the_same_way() {
        assert_eq!(check(dec("12.5")), Ok(dec("12.5")));
        assert_eq!(check(dec("12.50000")), Ok(dec("12.5")));
        assert!(
            check(dec("12.34567"))
                .unwrap_err()
                .contains("decimal places")
        );
        assert!(check(dec("-1")).unwrap_err().contains("negative"));
        assert!(
            check(dec("1000000000000"))
                .unwrap_err()
                .contains("too large")
        );
        assert_eq!(check(dec("0")), Ok(dec("0")));
    }

    #[test]
    fn separators_by_name() {
        assert_eq!(DecimalSeparator::parse(","), Some(Comma));
        assert_eq!(DecimalSeparator::parse("Point"), Some(Point));
        assert_eq!(DecimalSeparator::parse(";"), None);
    }
}
