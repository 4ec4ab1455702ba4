//! Pure CSV parsing for imports: bytes + target + mapping → rows, row errors and warnings.
//!
//! No I/O and no database: decoding (UTF-8 with or without BOM, UTF-16 with BOM, else
//! Windows-1252), delimiter sniffing (`,` `;` tab), header aliases with an explicit mapping
//! override, money into exact decimals by the file's one decimal separator
//! ([`crate::money`]), blank lines skipped. Line numbers are physical lines of the file
//! (the header is line 1 when it comes first); columns are 1-based. A bad row becomes a
//! [`Problem`] and the rest still parse.
//!
//! [`RowStream`] hands rows over in batches, so an import holds one batch at a time, never
//! the whole file's rows; [`parse`] collects them (last duplicate wins) for small files.

use crate::error::{AppError, AppResult};
use crate::money::{self, Convention, DecimalSeparator, Evidence};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Most data rows one file may hold; beyond it the import is refused up front.
pub const MAX_ROWS: usize = 500_000;
/// Longest key, vendor or vendor SKU a row may carry.
pub const MAX_CELL_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Update local unit costs (then pushed upstream).
    ItemCosts,
    /// Local vendor price list, never pushed.
    VendorPrices,
}

/// A field an import reads, and the headers that name it by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Key,
    Cost,
    Price,
    Vendor,
    VendorSku,
    EffectiveDate,
}

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Key => "sku",
            Field::Cost => "cost",
            Field::Price => "price",
            Field::Vendor => "vendor",
            Field::VendorSku => "vendorSku",
            Field::EffectiveDate => "effectiveDate",
        }
    }

    /// Normalised header names (see [`normalise`]) recognised without a mapping.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Key => &[
                "sku",
                "code",
                "part num",
                "part number",
                "part no",
                "partnum",
                "item code",
                "item sku",
                "item number",
                "item no",
                "product code",
                "product sku",
                "product",
                "product name",
                "item",
                "item name",
                "name",
            ],
            Field::Cost => &[
                "cost",
                "trade cost",
                "unit cost",
                "item cost",
                "cost price",
                "new cost",
                "tradecost",
            ],
            Field::Price => &[
                "price",
                "vendor price",
                "unit price",
                "supplier price",
                "list price",
                "cost",
                "trade cost",
                "unit cost",
            ],
            Field::Vendor => &["vendor", "vendor name", "supplier", "supplier name"],
            Field::VendorSku => &[
                "vendor sku",
                "vendor code",
                "vendor part",
                "vendor part num",
                "vendor part number",
                "supplier sku",
                "supplier code",
                "supplier part",
                "mpn",
            ],
            Field::EffectiveDate => &[
                "effective date",
                "effective",
                "effective from",
                "valid from",
                "date",
            ],
        }
    }
}

/// Which header holds each field, when the defaults do not match the file. Given as JSON
/// `{"sku": "Part_Num", "cost": "Trade_Cost"}`; `vendorName` sets one vendor for every row
/// of a file without a vendor column; `decimalSeparator` (`"."` or `","`) says how the
/// file writes decimals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub columns: HashMap<Field, String>,
    pub vendor_name: Option<String>,
    pub decimal_separator: Option<DecimalSeparator>,
}

impl Mapping {
    pub fn from_json(value: Option<&serde_json::Value>) -> AppResult<Mapping> {
        let mut m = Mapping::default();
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(m);
        };
        let obj = value.as_object().ok_or_else(|| {
            AppError::bad_input(
                r#"mapping must be a JSON object like {"sku": "Part_Num", "cost": "Trade_Cost"}"#,
            )
        })?;
        for (k, v) in obj {
            let text = v
                .as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    AppError::bad_input(format!("mapping.{k} must be a non-empty header name"))
                })?;
            if text.chars().count() > MAX_CELL_CHARS {
                return Err(AppError::bad_input(format!(
                    "mapping.{k} is longer than {MAX_CELL_CHARS} characters"
                )));
            }
            let field = match normalise(k).replace(' ', "").as_str() {
                "sku" | "code" | "key" | "partnum" => Field::Key,
                "cost" => Field::Cost,
                "price" => Field::Price,
                "vendor" => Field::Vendor,
                "vendorsku" => Field::VendorSku,
                "effectivedate" => Field::EffectiveDate,
                "vendorname" => {
                    m.vendor_name = Some(text.to_owned());
                    continue;
                }
                "decimalseparator" => {
                    m.decimal_separator = Some(DecimalSeparator::parse(text).ok_or_else(|| {
                        AppError::bad_input(format!(
                            "mapping.{k} must be \".\" or \",\", not '{text}'"
                        ))
                    })?);
                    continue;
                }
                _ => {
                    return Err(AppError::bad_input(format!(
                        "mapping: unknown field '{k}' (known: sku, cost, price, vendor, vendorSku, effectiveDate, vendorName, decimalSeparator)"
                    )));
                }
            };
            m.columns.insert(field, text.to_owned());
        }
        Ok(m)
    }
}

pub struct Options {
    pub target: Target,
    pub mapping: Mapping,
    /// Effective date of vendor prices in a file without that column.
    pub today: NaiveDate,
}

/// A row problem (`line`/`column` absent when it concerns the whole file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub line: Option<u64>,
    pub column: Option<u32>,
    pub message: String,
}

impl Problem {
    pub fn at(line: u64, column: Option<u32>, message: impl Into<String>) -> Self {
        Problem {
            line: Some(line),
            column,
            message: message.into(),
        }
    }

    fn file(message: impl Into<String>) -> Self {
        Problem {
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

/// One valid data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    /// Code/SKU, or a product name (the Jobber flow), trimmed.
    pub key: String,
    /// Cost (item costs) or price (vendor prices), exact.
    pub amount: Decimal,
    pub vendor: String,
    pub vendor_sku: String,
    pub effective_date: NaiveDate,
}

/// What the header and the first look at the whole file said.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Non-blank data rows (valid or not).
    pub data_rows: usize,
    /// 1-based column of the key, and its header (for messages about matching).
    pub key_column: u32,
    pub key_header: String,
    pub encoding: &'static str,
    pub delimiter: char,
    /// The file's decimal separator, decided once before any row is read.
    pub convention: Convention,
}

/// The rows, errors and warnings of consecutive lines of a file.
#[derive(Debug, Default)]
pub struct Batch {
    pub rows: Vec<Row>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// A file read batch by batch: the header and the file's decimal separator are settled
/// by [`RowStream::open`], then [`RowStream::next_batch`] parses the following lines.
/// Rows are not de-duplicated here (the caller knows which ones meet).
pub struct RowStream<'t> {
    reader: ::csv::Reader<&'t [u8]>,
    record: ::csv::StringRecord,
    lines: LineCounter<'t>,
    columns: Columns,
    opts: &'t Options,
    info: FileInfo,
    /// File-level warnings, handed out with the first batch.
    notes: Vec<Problem>,
    done: bool,
}

impl<'t> RowStream<'t> {
    /// Reads the header and looks at the amount column of every row once (the decimal
    /// separator, the row count). `Err` when nothing can be read at all: no usable header,
    /// no rows, too many rows, a bad mapping.
    pub fn open(text: &'t str, encoding: &'static str, opts: &'t Options) -> AppResult<Self> {
        let delimiter = sniff_delimiter(text);
        let builder = || {
            let mut b = ::csv::ReaderBuilder::new();
            b.has_headers(false).flexible(true).delimiter(delimiter);
            b
        };
        let mut reader = builder().from_reader(text.as_bytes());
        let mut lines = LineCounter::new(text);
        let mut record = ::csv::StringRecord::new();
        // The header: the first non-blank record.
        let (header_line, header_end) = loop {
            match reader.read_record(&mut record) {
                Ok(false) => {
                    return Err(AppError::bad_input(
                        "the file is empty: no header and no rows",
                    ));
                }
                Err(e) => {
                    return Err(AppError::bad_input(format!(
                        "the file is not valid CSV: {e}"
                    )));
                }
                Ok(true) if is_blank(&record) => continue,
                Ok(true) => break (lines.of(&record), reader.position().byte()),
            }
        };
        let headers: Vec<String> = record.iter().map(|h| h.trim().to_owned()).collect();
        let columns = Columns::resolve(&headers, opts)?;
        let (data_rows, evidence) = survey(
            builder().from_reader(text.as_bytes()),
            text,
            header_end,
            &columns,
        )?;
        if data_rows == 0 {
            return Err(AppError::bad_input(format!(
                "the file has a header (line {header_line}) but no data rows"
            )));
        }
        let convention = evidence.decide(opts.mapping.decimal_separator);
        let mut notes = Vec::new();
        if encoding != "UTF-8" {
            notes.push(Problem::file(format!(
                "the file is not UTF-8; read it as {encoding}"
            )));
        }
        notes.extend(convention.warning().map(Problem::file));
        let info = FileInfo {
            data_rows,
            key_column: columns.key,
            key_header: columns.key_header.clone(),
            encoding,
            delimiter: delimiter as char,
            convention,
        };
        Ok(RowStream {
            reader,
            record,
            lines,
            columns,
            opts,
            info,
            notes,
            done: false,
        })
    }

    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// The next `max_rows` non-blank data rows (fewer at the end); `None` after the last.
    pub fn next_batch(&mut self, max_rows: usize) -> Option<Batch> {
        if self.done {
            return None;
        }
        let mut batch = Batch {
            warnings: std::mem::take(&mut self.notes),
            ..Default::default()
        };
        let mut read = 0;
        while read < max_rows {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    let line = e.position().map(|p| self.lines.at(p.byte())).unwrap_or(0);
                    batch
                        .errors
                        .push(Problem::at(line, None, format!("unreadable row: {e}")));
                    read += 1;
                }
                Ok(true) if is_blank(&self.record) => {}
                Ok(true) => {
                    read += 1;
                    let line = self.lines.of(&self.record);
                    if let Some(row) = self.columns.read_row(
                        &self.record,
                        line,
                        self.opts,
                        &self.info.convention,
                        &mut batch.errors,
                    ) {
                        batch.rows.push(row);
                    }
                }
            }
        }
        (read > 0 || !batch.warnings.is_empty() || !self.done).then_some(batch)
    }
}

/// One pass over the data rows before reading them: how many there are, and what their
/// amounts say about the decimal separator. Nothing is kept per row.
fn survey(
    mut reader: ::csv::Reader<&[u8]>,
    text: &str,
    header_end: u64,
    columns: &Columns,
) -> AppResult<(usize, Evidence)> {
    let mut lines = LineCounter::new(text);
    // Bytes, not strings: the text is valid UTF-8 already, and this pass only looks.
    let mut record = ::csv::ByteRecord::new();
    let mut evidence = Evidence::default();
    let mut rows = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Err(_) => {
                rows += 1;
                continue;
            }
            Ok(true) => {}
        }
        let at = record.position().map(|p| p.byte()).unwrap_or(0);
        let blank = record.iter().all(|f| {
            f.trim_ascii().is_empty() || std::str::from_utf8(f).is_ok_and(|s| s.trim().is_empty())
        });
        if at < header_end || blank {
            continue;
        }
        rows += 1;
        if rows > MAX_ROWS {
            return Err(AppError::bad_input(format!(
                "the file has more than {MAX_ROWS} rows; split it into smaller files"
            )));
        }
        if let Some(cell) = record.get((columns.amount - 1) as usize)
            && cell.contains(&b'.') | cell.contains(&b',')
        {
            let line = record.position().map(|p| lines.at(p.byte())).unwrap_or(0);
            evidence.add(line, &String::from_utf8_lossy(cell));
        }
    }
    Ok((rows, evidence))
}

/// Every row of a whole file in memory, duplicates resolved (the later row replaces the
/// earlier one, with a warning). For small files; imports read a [`RowStream`].
#[derive(Debug)]
pub struct Parsed {
    pub rows: Vec<Row>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// Non-blank data rows read (valid or not).
    pub data_rows: usize,
    /// 1-based column of the key (for messages about matching).
    pub key_column: u32,
    pub encoding: &'static str,
    pub delimiter: char,
}

/// Parses a whole file. `Err` only when nothing can be read at all (no usable header,
/// no rows, too many rows, a bad mapping); every row problem is in `Parsed::errors`.
pub fn parse(bytes: &[u8], opts: &Options) -> AppResult<Parsed> {
    let (text, encoding) = decode(bytes);
    let mut stream = RowStream::open(&text, encoding, opts)?;
    let info = stream.info().clone();
    let mut rows: Vec<Row> = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    // Dedup key → index in `rows`; the later row replaces the earlier one.
    let mut seen: HashMap<(String, String, String, NaiveDate), usize> = HashMap::new();
    while let Some(batch) = stream.next_batch(usize::MAX) {
        errors.extend(batch.errors);
        warnings.extend(batch.warnings);
        for row in batch.rows {
            let dedup = (
                row.key.clone(),
                row.vendor.clone(),
                row.vendor_sku.clone(),
                row.effective_date,
            );
            match seen.get(&dedup) {
                Some(&i) => {
                    warnings.push(duplicate_warning(&info, &row.key, rows[i].line, row.line));
                    rows[i] = row;
                }
                None => {
                    seen.insert(dedup, rows.len());
                    rows.push(row);
                }
            }
        }
    }
    Ok(Parsed {
        rows,
        errors,
        warnings,
        data_rows: info.data_rows,
        key_column: info.key_column,
        encoding: info.encoding,
        delimiter: info.delimiter,
    })
}

/// "duplicate Part_Num 'A' on lines 2 and 4: line 4 wins"
pub fn duplicate_warning(info: &FileInfo, key: &str, earlier: u64, line: u64) -> Problem {
    Problem::at(
        line,
        Some(info.key_column),
        format!(
            "duplicate {} '{key}' on lines {earlier} and {line}: line {line} wins",
            info.key_header
        ),
    )
}

/// Where each field is (1-based columns) once the header is understood.
struct Columns {
    key: u32,
    key_header: String,
    amount: u32,
    amount_header: String,
    vendor: Option<u32>,
    vendor_sku: Option<u32>,
    effective_date: Option<u32>,
}

impl Columns {
    fn resolve(headers: &[String], opts: &Options) -> AppResult<Columns> {
        let normalised: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
        let listing = || {
            let shown: Vec<&str> = headers
                .iter()
                .map(String::as_str)
                .filter(|h| !h.is_empty())
                .collect();
            if shown.is_empty() {
                "none".to_owned()
            } else {
                shown.join(", ")
            }
        };
        let find = |field: Field| -> AppResult<Option<u32>> {
            if let Some(wanted) = opts.mapping.columns.get(&field) {
                let w = normalise(wanted);
                return match normalised.iter().position(|h| *h == w) {
                    Some(i) => Ok(Some(i as u32 + 1)),
                    None => Err(AppError::bad_input(format!(
                        "mapping: column '{wanted}' for {} is not in the header (line 1 has: {})",
                        field.label(),
                        listing()
                    ))),
                };
            }
            // Aliases in order of preference, so "sku" wins over "name" when both exist.
            Ok(field.aliases().iter().find_map(|alias| {
                normalised
                    .iter()
                    .position(|h| h == alias)
                    .map(|i| i as u32 + 1)
            }))
        };
        let amount_field = match opts.target {
            Target::ItemCosts => Field::Cost,
            Target::VendorPrices => Field::Price,
        };
        let key = find(Field::Key)?.ok_or_else(|| {
            AppError::bad_input(format!(
                "no usable header: no SKU/code column (looked for Part_Num, SKU, Code, Item Code, …; the header has: {}); pass a mapping like {{\"sku\": \"<header>\"}}",
                listing()
            ))
        })?;
        let amount = find(amount_field)?.ok_or_else(|| {
            AppError::bad_input(format!(
                "no usable header: no {} column (looked for {}; the header has: {}); pass a mapping like {{\"{}\": \"<header>\"}}",
                amount_field.label(),
                match amount_field {
                    Field::Cost => "Trade_Cost, Cost, Unit Cost, …",
                    _ => "Price, Vendor Price, Unit Price, Cost, …",
                },
                listing(),
                amount_field.label()
            ))
        })?;
        if key == amount {
            return Err(AppError::bad_input(format!(
                "the {} and {} columns cannot be the same column",
                Field::Key.label(),
                amount_field.label()
            )));
        }
        let (vendor, vendor_sku, effective_date) = match opts.target {
            Target::ItemCosts => (None, None, None),
            Target::VendorPrices => {
                let vendor = find(Field::Vendor)?;
                if vendor.is_none() && opts.mapping.vendor_name.is_none() {
                    return Err(AppError::bad_input(format!(
                        "no vendor column (looked for Vendor, Supplier; the header has: {}); add one or pass mapping {{\"vendorName\": \"Acme\"}}",
                        listing()
                    )));
                }
                (vendor, find(Field::VendorSku)?, find(Field::EffectiveDate)?)
            }
        };
        let header = |c: u32| headers[(c - 1) as usize].clone();
        Ok(Columns {
            key,
            key_header: header(key),
            amount,
            amount_header: header(amount),
            vendor,
            vendor_sku,
            effective_date,
        })
    }

    fn read_row(
        &self,
        record: &::csv::StringRecord,
        line: u64,
        opts: &Options,
        convention: &Convention,
        errors: &mut Vec<Problem>,
    ) -> Option<Row> {
        let cell = |c: u32| record.get((c - 1) as usize).map(str::trim).unwrap_or("");
        let mut ok = true;
        let key = cell(self.key);
        if key.is_empty() {
            errors.push(Problem::at(
                line,
                Some(self.key),
                format!("{} is empty", self.key_header),
            ));
            ok = false;
        } else if key.chars().count() > MAX_CELL_CHARS {
            errors.push(Problem::at(
                line,
                Some(self.key),
                format!(
                    "{} is longer than {MAX_CELL_CHARS} characters",
                    self.key_header
                ),
            ));
            ok = false;
        }
        let amount = match money::parse_cell(cell(self.amount), convention) {
            Ok(value) => Some(value),
            Err(why) => {
                errors.push(Problem::at(
                    line,
                    Some(self.amount),
                    format!("{} {why}", self.amount_header),
                ));
                None
            }
        };
        let vendor = match self.vendor {
            Some(c) if !cell(c).is_empty() => cell(c).to_owned(),
            Some(c) if opts.mapping.vendor_name.is_none() => {
                errors.push(Problem::at(line, Some(c), "vendor is empty"));
                ok = false;
                String::new()
            }
            _ => opts.mapping.vendor_name.clone().unwrap_or_default(),
        };
        let vendor_sku = match self.vendor_sku {
            Some(c) if !cell(c).is_empty() => cell(c).to_owned(),
            // Without a vendor SKU the vendor's list is keyed by our own SKU.
            _ => key.to_owned(),
        };
        let effective_date = match self.effective_date {
            Some(c) if !cell(c).is_empty() => match parse_date(cell(c)) {
                Some(d) => d,
                None => {
                    errors.push(Problem::at(
                        line,
                        Some(c),
                        format!(
                            "effective date '{}' is not a date (use YYYY-MM-DD)",
                            cell(c)
                        ),
                    ));
                    ok = false;
                    opts.today
                }
            },
            _ => opts.today,
        };
        if opts.target == Target::VendorPrices && vendor.chars().count() > MAX_CELL_CHARS {
            errors.push(Problem::at(
                line,
                self.vendor,
                format!("vendor is longer than {MAX_CELL_CHARS} characters"),
            ));
            ok = false;
        }
        if opts.target == Target::VendorPrices && vendor_sku.chars().count() > MAX_CELL_CHARS {
            errors.push(Problem::at(
                line,
                self.vendor_sku.or(Some(self.key)),
                format!("vendor SKU is longer than {MAX_CELL_CHARS} characters"),
            ));
            ok = false;
        }
        let amount = amount?;
        ok.then(|| Row {
            line,
            key: key.to_owned(),
            amount,
            vendor,
            vendor_sku,
            effective_date,
        })
    }
}

/// Physical line numbers from byte offsets (the csv crate's own line count does not
/// include skipped blank lines). Records come in order, so counting is incremental.
struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn of(&mut self, r: &::csv::StringRecord) -> u64 {
        r.position().map(|p| self.at(p.byte())).unwrap_or(0)
    }

    /// The line of the first character at or after `byte` that is not a line break.
    fn at(&mut self, byte: u64) -> u64 {
        let mut start = (byte as usize).min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.offset {
            return self.line;
        }
        self.line += self.text[self.offset..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.offset = start;
        self.line
    }
}

fn is_blank(r: &::csv::StringRecord) -> bool {
    r.iter().all(|f| f.trim().is_empty())
}

/// Lowercase, separators (`_`, `-`, `.`, `/`, spaces) collapsed to one space, so
/// `Part_Num`, `part-num` and `PART NUM` are the same header.
pub fn normalise(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut gap = false;
    for ch in header.trim().chars() {
        if ch == '_' || ch == '-' || ch == '.' || ch == '/' || ch.is_whitespace() {
            gap = !out.is_empty();
        } else {
            if gap {
                out.push(' ');
                gap = false;
            }
            out.extend(ch.to_lowercase());
        }
    }
    out
}

/// UTF-8 (BOM stripped), UTF-16 with a BOM, else Windows-1252 (which decodes any byte).
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom..]);
        return (text.into_owned(), enc.name());
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), "UTF-8"),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            (text.into_owned(), encoding_rs::WINDOWS_1252.name())
        }
    }
}

/// [`decode`] of an owned buffer: UTF-8 (the usual case) becomes the text without a copy.
pub fn decode_owned(bytes: Vec<u8>) -> (String, &'static str) {
    let utf8_bom = bytes.starts_with(b"\xEF\xBB\xBF");
    if !utf8_bom && encoding_rs::Encoding::for_bom(&bytes).is_some() {
        return decode(&bytes);
    }
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if utf8_bom {
                s.replace_range(..3, "");
            }
            (s, "UTF-8")
        }
        Err(e) => decode(e.as_bytes()),
    }
}

/// The delimiter the header line uses most, outside quotes; `,` on a tie or none.
pub fn sniff_delimiter(text: &str) -> u8 {
    let header = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    counts
        .iter()
        .copied()
        .fold((b',', 0), |best, c| if c.1 > best.1 { c } else { best })
        .0
}

/// ISO dates first; then US `MM/DD/YYYY`, `YYYY/MM/DD` and European `DD.MM.YYYY`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s.trim(), f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().expect("decimal literal")
    }

    fn opts(target: Target) -> Options {
        Options {
            target,
            mapping: Mapping::default(),
            today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        }
    }

    fn costs(text: &str) -> Parsed {
        parse(text.as_bytes(), &opts(Target::ItemCosts)).expect("parses")
    }

    fn problem(line: u64, column: u32, message: &str) -> Problem {
        Problem {
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    fn keys_and_amounts(p: &Parsed) -> Vec<(String, Decimal, u64)> {
        p.rows
            .iter()
            .map(|r| (r.key.clone(), r.amount, r.line))
            .collect()
    }

    fn bad_input(result: AppResult<Parsed>) -> String {
        match result {
            Err(AppError::BadUserInput(m)) => m,
            Err(other) => panic!("expected BAD_USER_INPUT, got {other:?}"),
            Ok(p) => panic!("expected BAD_USER_INPUT, parsed {:?}", p.rows),
        }
    }

    #[test]
    fn the_original_tools_file_part_num_and_trade_cost() {
        let p = costs("Part_Num,Trade_Cost\nPIPE-1,12.50\nValve Large,3\n");
        assert_eq!(
            keys_and_amounts(&p),
            vec![
                ("PIPE-1".into(), dec("12.5"), 2),
                ("Valve Large".into(), dec("3"), 3)
            ]
        );
        assert!(p.errors.is_empty() && p.warnings.is_empty());
        assert_eq!((p.data_rows, p.key_column, p.delimiter), (2, 1, ','));
    }

    #[test]
    fn header_aliases_in_any_case_and_spacing() {
        for header in [
            "SKU,Cost",
            "code,unit cost",
            "Item Code , Unit_Cost",
            "PART-NUM;TRADE COST",
        ] {
            let row = if header.contains(';') { "A;1" } else { "A,1" };
            let p = costs(&format!("{header}\n{row}\n"));
            assert_eq!(
                keys_and_amounts(&p),
                vec![("A".into(), dec("1"), 2)],
                "{header}"
            );
        }
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let mut bytes = b"\xEF\xBB\xBFsku,cost\nA,1.25\n".to_vec();
        let p = parse(&bytes, &opts(Target::ItemCosts)).unwrap();
        assert_eq!(keys_and_amounts(&p), vec![("A".into(), dec("1.25"), 2)]);
        assert_eq!(p.encoding, "UTF-8");
        assert!(p.warnings.is_empty());
        bytes.truncate(3);
        assert!(parse(&bytes, &opts(Target::ItemCosts)).is_err());
    }

    #[test]
    fn windows_1252_is_decoded_with_a_warning() {
        // "Café" and "€5" in Windows-1252: 0xE9 and 0x80 are not valid UTF-8.
        let p = parse(b"sku,cost\nCaf\xE9,\x805\n", &opts(Target::ItemCosts)).unwrap();
        assert_eq!(keys_and_amounts(&p), vec![("Café".into(), dec("5"), 2)]);
        assert_eq!(p.encoding, "windows-1252");
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].message.contains("windows-1252"));
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let text = "sku,cost\nA,2\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        let p = parse(&bytes, &opts(Target::ItemCosts)).unwrap();
        assert_eq!(keys_and_amounts(&p), vec![("A".into(), dec("2"), 2)]);
    }

    #[test]
    fn delimiters_are_detected() {
        assert_eq!(sniff_delimiter("sku;cost\nA;1,5"), b';');
        assert_eq!(sniff_delimiter("sku\tcost"), b'\t');
        assert_eq!(sniff_delimiter("sku,cost"), b',');
        assert_eq!(
            sniff_delimiter("\"a;b\",cost"),
            b',',
            "quoted delimiters do not count"
        );
        let p = costs("sku;cost\nA;1,5\nB;\"1.234,50\"\n");
        assert_eq!(
            keys_and_amounts(&p),
            vec![("A".into(), dec("1.5"), 2), ("B".into(), dec("1234.5"), 3)]
        );
        let p = costs("sku\tcost\nA\t$7.25\n");
        assert_eq!(keys_and_amounts(&p), vec![("A".into(), dec("7.25"), 2)]);
    }

    #[test]
    fn quoted_fields_keep_delimiters_quotes_and_newlines() {
        let p = costs("sku,cost\n\"A,1\",\"2\"\n\"say \"\"hi\"\"\",3\n\"multi\nline\",4\nB,x\n");
        assert_eq!(
            keys_and_amounts(&p),
            vec![
                ("A,1".into(), dec("2"), 2),
                ("say \"hi\"".into(), dec("3"), 3),
                ("multi\nline".into(), dec("4"), 4),
            ]
        );
        // The row after a two-line field is on line 6.
        assert_eq!(p.errors, vec![problem(6, 2, "cost 'x' is not an amount")]);
    }

    #[test]
    fn money_is_read_with_the_files_one_decimal_separator() {
        // `12,5` shows a decimal comma, so `1.500` in the same file is fifteen hundred.
        let p = costs("sku;cost\nA;12,5\nB;1.500\nC;\"1.234,50\"\n");
        assert_eq!(
            keys_and_amounts(&p),
            vec![
                ("A".into(), dec("12.5"), 2),
                ("B".into(), dec("1500"), 3),
                ("C".into(), dec("1234.5"), 4)
            ]
        );
        // Nothing shows it: `1,500` is an error, not a guess; `7` and `$2.25` read.
        let p = costs("sku,cost\nA,\"1,500\"\nB,7\n");
        assert_eq!(keys_and_amounts(&p), vec![("B".into(), dec("7"), 3)]);
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].message.contains("ambiguous"), "{:?}", p.errors);
        // The mapping's separator decides.
        let o = Options {
            mapping: Mapping::from_json(Some(&serde_json::json!({ "decimalSeparator": "," })))
                .unwrap(),
            ..opts(Target::ItemCosts)
        };
        let p = parse(b"sku,cost\nA,\"1,500\"\nB,1.500\n", &o).unwrap();
        assert_eq!(
            keys_and_amounts(&p),
            vec![("A".into(), dec("1.5"), 2), ("B".into(), dec("1500"), 3)]
        );
        assert!(Mapping::from_json(Some(&serde_json::json!({ "decimalSeparator": ";" }))).is_err());
        // A file mixing both says so once.
        let p = costs("sku,cost\nA,\"1,234.50\"\nB,\"12,5\"\n");
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].message.contains("both"), "{:?}", p.warnings);
    }

    #[test]
    fn money_is_exact_not_floating_point() {
        let p = costs("sku,cost\nA,0.1\nB,\"$1,000,000.0001\"\n");
        assert_eq!(p.rows[0].amount.to_string(), "0.1");
        assert_eq!(p.rows[1].amount.to_string(), "1000000.0001");
    }

    #[test]
    fn more_than_four_decimals_or_too_large_are_errors_not_rounding() {
        let p = costs("sku,cost\nA,1.00005\nB,9999999999999999999999999999.9999\n");
        assert!(p.rows.is_empty());
        assert_eq!(
            p.errors,
            vec![
                problem(
                    2,
                    2,
                    "cost '1.00005' has more than 4 decimal places; money is stored with 4"
                ),
                problem(
                    3,
                    2,
                    "cost '9999999999999999999999999999.9999' is too large; amounts are at most 99999999999.9999"
                ),
            ]
        );
    }

    #[test]
    fn a_stream_hands_over_batches_in_file_order() {
        let o = opts(Target::ItemCosts);
        let text = "sku,cost\nA,1\nB,x\n\nC,3\nA,4\n";
        let mut s = RowStream::open(text, "UTF-8", &o).unwrap();
        assert_eq!(s.info().data_rows, 4);
        let first = s.next_batch(2).unwrap();
        assert_eq!(first.rows.len(), 1);
        assert_eq!(
            first.errors,
            vec![problem(3, 2, "cost 'x' is not an amount")]
        );
        let second = s.next_batch(2).unwrap();
        let lines: Vec<u64> = second.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![5, 6], "duplicates are the caller's to resolve");
        assert!(
            s.next_batch(2)
                .is_none_or(|b| b.rows.is_empty() && b.errors.is_empty())
        );
        assert!(s.next_batch(2).is_none());
    }

    #[test]
    fn owned_utf8_is_not_copied_and_boms_are_stripped() {
        let (text, enc) = decode_owned(b"\xEF\xBB\xBFsku".to_vec());
        assert_eq!((text.as_str(), enc), ("sku", "UTF-8"));
        let (text, enc) = decode_owned(b"Caf\xE9".to_vec());
        assert_eq!((text.as_str(), enc), ("Café", "windows-1252"));
    }

    #[test]
    fn blank_lines_are_skipped_and_lines_still_count() {
        let p = costs("\nsku,cost\n\nA,1\n   \n,\nB,abc\n\n");
        assert_eq!(keys_and_amounts(&p), vec![("A".into(), dec("1"), 4)]);
        assert_eq!(p.errors, vec![problem(7, 2, "cost 'abc' is not an amount")]);
        assert_eq!(p.data_rows, 2);
    }

    #[test]
    fn the_admin_ui_file() {
        let p = costs("sku,cost\nA-1,12.34\nX,\"$1,234.50\"\nY-BAD,abc\nNO-SUCH,5.00\n");
        assert_eq!(
            keys_and_amounts(&p),
            vec![
                ("A-1".into(), dec("12.34"), 2),
                ("X".into(), dec("1234.5"), 3),
                ("NO-SUCH".into(), dec("5"), 5)
            ]
        );
        assert_eq!(p.errors, vec![problem(4, 2, "cost 'abc' is not an amount")]);
    }

    #[test]
    fn every_bad_cell_is_reported_and_the_rest_imports() {
        let p = costs("sku,cost\n,1\nA,\nB,-3\nC\nD,2,extra\n");
        assert_eq!(
            p.errors,
            vec![
                problem(2, 1, "sku is empty"),
                problem(3, 2, "cost is empty"),
                problem(4, 2, "cost '-3' is negative; amounts cannot be negative"),
                problem(5, 2, "cost is empty"),
            ]
        );
        assert_eq!(keys_and_amounts(&p), vec![("D".into(), dec("2"), 6)]);
    }

    #[test]
    fn duplicate_keys_last_wins_with_both_lines() {
        let p = costs("sku,cost\nA,1\nB,2\nA,3\n");
        assert_eq!(
            keys_and_amounts(&p),
            vec![("A".into(), dec("3"), 4), ("B".into(), dec("2"), 3)]
        );
        assert_eq!(
            p.warnings,
            vec![problem(
                4,
                1,
                "duplicate sku 'A' on lines 2 and 4: line 4 wins"
            )]
        );
    }

    #[test]
    fn files_without_a_usable_header_or_rows_are_refused() {
        let o = opts(Target::ItemCosts);
        assert!(bad_input(parse(b"", &o)).contains("empty"));
        assert!(bad_input(parse(b"\n\n  \n", &o)).contains("empty"));
        assert!(bad_input(parse(b"sku,cost\n", &o)).contains("no data rows"));
        assert!(bad_input(parse(b"sku,cost\n\n,\n", &o)).contains("no data rows"));
        let m = bad_input(parse(b"foo,bar\n1,2\n", &o));
        assert!(
            m.contains("no SKU/code column") && m.contains("foo, bar"),
            "{m}"
        );
        let m = bad_input(parse(b"sku,qty\nA,2\n", &o));
        assert!(m.contains("no cost column"), "{m}");
        let m = bad_input(parse(b"A-1,12.50\nA-2,3\n", &o));
        assert!(m.contains("no usable header"), "{m}");
    }

    #[test]
    fn an_explicit_mapping_overrides_the_aliases() {
        let mapping = Mapping::from_json(Some(
            &serde_json::json!({ "sku": "Ref", "cost": "Amount (USD)" }),
        ))
        .unwrap();
        let o = Options {
            mapping,
            ..opts(Target::ItemCosts)
        };
        let p = parse(b"Cost,Ref,Amount (USD)\n9,A,1.5\n", &o).unwrap();
        assert_eq!(keys_and_amounts(&p), vec![("A".into(), dec("1.5"), 2)]);
        let m = bad_input(parse(b"sku,cost\nA,1\n", &o));
        assert!(
            m.contains("mapping: column 'Ref' for sku is not in the header"),
            "{m}"
        );
        assert!(Mapping::from_json(Some(&serde_json::json!({ "colour": "x" }))).is_err());
        assert!(Mapping::from_json(Some(&serde_json::json!(["sku"]))).is_err());
        assert!(Mapping::from_json(Some(&serde_json::json!({ "sku": "" }))).is_err());
        assert_eq!(Mapping::from_json(None).unwrap(), Mapping::default());
    }

    #[test]
    fn vendor_prices_read_vendor_sku_and_date() {
        let text = "SKU,Supplier,Supplier SKU,Price,Effective Date\n\
                    A,Acme,AC-1,$2.50,2026-12-01\n\
                    B,Acme,,3,12/24/2026\n\
                    C,Acme,AC-3,4,someday\n\
                    D,,AC-4,5,\n";
        let p = parse(text.as_bytes(), &opts(Target::VendorPrices)).unwrap();
        let rows: Vec<(String, String, String, Decimal, NaiveDate)> = p
            .rows
            .iter()
            .map(|r| {
                (
                    r.key.clone(),
                    r.vendor.clone(),
                    r.vendor_sku.clone(),
                    r.amount,
                    r.effective_date,
                )
            })
            .collect();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            rows,
            vec![
                (
                    "A".into(),
                    "Acme".into(),
                    "AC-1".into(),
                    dec("2.5"),
                    d(2026, 12, 1)
                ),
                (
                    "B".into(),
                    "Acme".into(),
                    "B".into(),
                    dec("3"),
                    d(2026, 12, 24)
                ),
            ]
        );
        assert_eq!(
            p.errors,
            vec![
                problem(
                    4,
                    5,
                    "effective date 'someday' is not a date (use YYYY-MM-DD)"
                ),
                problem(5, 2, "vendor is empty"),
            ]
        );
    }

    #[test]
    fn vendor_prices_need_a_vendor_column_or_a_vendor_name() {
        let o = opts(Target::VendorPrices);
        let m = bad_input(parse(b"sku,price\nA,1\n", &o));
        assert!(m.contains("no vendor column"), "{m}");
        let o = Options {
            mapping: Mapping::from_json(Some(&serde_json::json!({ "vendorName": "Acme" })))
                .unwrap(),
            ..opts(Target::VendorPrices)
        };
        let p = parse(b"sku,price\nA,1\n", &o).unwrap();
        assert_eq!(p.rows[0].vendor, "Acme");
        assert_eq!(
            p.rows[0].effective_date,
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
    }

    #[test]
    fn headers_normalise() {
        assert_eq!(normalise("  Part_Num "), "part num");
        assert_eq!(normalise("Unit--Cost"), "unit cost");
        assert_eq!(normalise("Item.Code"), "item code");
        assert_eq!(normalise("SKU"), "sku");
    }
}
