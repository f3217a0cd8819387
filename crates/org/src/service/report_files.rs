//! Turning a query's answer into a report: the rows at a path, columns read by dotted
//! paths, and the files: CSV (RFC 4180) and PDF (a table, and a bar chart when asked;
//! `pdf-writer`, uncompressed so it can be read back). Pure functions.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};
use serde_json::Value;

/// Most rows a report holds.
pub const MAX_ROWS: usize = 10_000;

/// Page geometry (A4 portrait, points).
const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 40.0;
const ROW_HEIGHT: f32 = 14.0;

/// The segments of a dotted path of field names (`organization.projects.nodes`).
pub fn parse_path(path: &str) -> Result<Vec<&str>, String> {
    let segments: Vec<&str> = path.split('.').collect();
    let name = |s: &&str| {
        let mut c = s.chars();
        c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
            && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
    };
    if path.len() > 500 || segments.len() > 16 || !segments.iter().all(name) {
        return Err(format!("`{path}` is not a dotted path of field names (`organization.projects.nodes`)"));
    }
    Ok(segments)
}

/// The value at `path` under `v` (`None` where a step is missing or not an object).
fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, key| cur.as_object()?.get(*key))
}

/// A value as a cell: text as is, numbers and booleans printed, null empty, lists joined
/// with `; `, objects as JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

/// A report column: its heading and where a row holds its value.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq)]
pub struct Column {
    /// Heading.
    pub label: String,
    /// Dotted path in a row (`manager.user.name`).
    pub path: String,
}

/// The table of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Headings.
    pub headings: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

/// The table of `columns` over the list at `rows_path` of `data`.
pub fn table(data: &Value, rows_path: &str, columns: &[Column]) -> Result<Table, String> {
    let path = parse_path(rows_path)?;
    let Some(Value::Array(items)) = at(data, &path) else {
        return Err(format!("the answer holds no list at `{rows_path}`"));
    };
    if items.len() > MAX_ROWS {
        return Err(format!("a report holds at most {MAX_ROWS} rows"));
    }
    let paths = columns.iter().map(|c| parse_path(&c.path)).collect::<Result<Vec<_>, _>>()?;
    let rows =
        items.iter().map(|item| paths.iter().map(|p| at(item, p).map(cell).unwrap_or_default()).collect()).collect();
    Ok(Table { headings: columns.iter().map(|c| c.label.clone()).collect(), rows })
}

/// A CSV field: quoted when it must be; text a spreadsheet would run as a formula gets a
/// leading `'` (numbers such as `-5` stay numbers).
fn csv_field(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    let s = if formula { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// The table as CSV (RFC 4180: CRLF line ends, UTF-8).
pub fn csv(t: &Table) -> Vec<u8> {
    let line = |cells: &[String]| cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",");
    let mut out = line(&t.headings);
    out.push_str("\r\n");
    for r in &t.rows {
        out.push_str(&line(r));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Which columns a bar chart takes its labels and values from.
#[derive(Debug, Clone, Copy, serde::Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChartColumns {
    /// Index of the label column.
    pub label_column: usize,
    /// Index of the value column (numbers; others count as 0).
    pub value_column: usize,
}

/// Text in Helvetica's WinAnsi encoding: Latin-1 letters kept, others `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match u32::from(c) {
            0x20..=0x7e | 0xa0..=0xff => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

/// `s` cut to about `width` points of 9-point Helvetica.
fn fit(s: &str, width: f32) -> String {
    let max = ((width / 4.6) as usize).max(1);
    if s.chars().count() <= max { s.to_owned() } else { s.chars().take(max.saturating_sub(1)).chain(['~']).collect() }
}

fn text(c: &mut Content, (x, y): (f32, f32), size: f32, s: &str) {
    c.begin_text();
    c.set_font(Name(b"F1"), size);
    c.next_line(x, y);
    c.show(Str(&win_ansi(s)));
    c.end_text();
}

/// Draws a bar chart of at most 20 rows with its top at `y`; returns the next free `y`.
fn bar_chart(c: &mut Content, t: &Table, cols: ChartColumns, y: f32) -> f32 {
    let bars: Vec<(String, f64)> = t
        .rows
        .iter()
        .take(20)
        .map(|r| {
            let label = r.get(cols.label_column).cloned().unwrap_or_default();
            let value = r.get(cols.value_column).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            (label, value)
        })
        .collect();
    let height = 150.0_f32;
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let slot = (PAGE.0 - 2.0 * MARGIN) / bars.len().max(1) as f32;
    let base = y - height - 12.0;
    c.set_fill_rgb(0.22, 0.45, 0.78);
    for (i, (_, v)) in bars.iter().enumerate() {
        let h = if max > 0.0 { (v.max(0.0) / max) as f32 * height } else { 0.0 };
        c.rect(MARGIN + i as f32 * slot + slot * 0.15, base, slot * 0.7, h);
        c.fill_nonzero();
    }
    c.set_fill_rgb(0.0, 0.0, 0.0);
    for (i, (label, v)) in bars.iter().enumerate() {
        let x = MARGIN + i as f32 * slot + slot * 0.15;
        let h = if max > 0.0 { (v.max(0.0) / max) as f32 * height } else { 0.0 };
        text(c, (x, base + h + 3.0), 7.0, &fit(&v.to_string(), slot));
        text(c, (x, base - 10.0), 7.0, &fit(label, slot * 1.2));
    }
    base - 28.0
}

/// The report as a PDF: title, subtitle, the chart (when asked) and the table over as many
/// pages as it takes.
pub fn pdf(title: &str, subtitle: &str, t: &Table, chart: Option<ChartColumns>) -> Vec<u8> {
    let mut pages = vec![];
    let mut page = Content::new();
    let mut y = PAGE.1 - MARGIN - 16.0;
    text(&mut page, (MARGIN, y), 16.0, title);
    y -= 18.0;
    text(&mut page, (MARGIN, y), 9.0, subtitle);
    y -= 20.0;
    if let Some(cols) = chart.filter(|c| c.label_column < t.headings.len() && c.value_column < t.headings.len()) {
        y = bar_chart(&mut page, t, cols, y);
    }
    let width = (PAGE.0 - 2.0 * MARGIN) / t.headings.len().max(1) as f32;
    let line = |c: &mut Content, cells: &[String], y: f32| {
        for (i, s) in cells.iter().enumerate() {
            text(c, (MARGIN + i as f32 * width, y), 9.0, &fit(s, width - 4.0));
        }
    };
    line(&mut page, &t.headings, y);
    y -= ROW_HEIGHT;
    for r in &t.rows {
        if y < MARGIN {
            pages.push(std::mem::replace(&mut page, Content::new()));
            y = PAGE.1 - MARGIN - 9.0;
            line(&mut page, &t.headings, y);
            y -= ROW_HEIGHT;
        }
        line(&mut page, r, y);
        y -= ROW_HEIGHT;
    }
    pages.push(page);
    assemble(pages)
}

fn assemble(pages: Vec<Content>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let (catalog, tree, font) = (Ref::new(1), Ref::new(2), Ref::new(3));
    let ids: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|i| i32::try_from(i).unwrap_or(0))
        .map(|i| (Ref::new(4 + 2 * i), Ref::new(5 + 2 * i)))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|(p, _)| *p)).count(i32::try_from(ids.len()).unwrap_or(0));
    pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    for (content, (page_id, content_id)) in pages.into_iter().zip(&ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1));
        page.parent(tree);
        page.contents(*content_id);
        page.resources().fonts().pair(Name(b"F1"), font);
        drop(page);
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(spec: &[(&str, &str)]) -> Vec<Column> {
        spec.iter().map(|(l, p)| Column { label: (*l).into(), path: (*p).into() }).collect()
    }

    #[test]
    fn rows_and_cells_come_from_paths() {
        let data = serde_json::json!({ "org": { "list": [
            { "name": "A", "n": 3, "who": { "email": "a@x" }, "tags": ["x", "y"] },
            { "name": "B, \"quoted\"", "n": null, "who": null, "tags": [] }
        ] } });
        let t =
            table(&data, "org.list", &cols(&[("Name", "name"), ("N", "n"), ("Who", "who.email"), ("Tags", "tags")]));
        let t = t.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.rows, vec![vec!["A", "3", "a@x", "x; y"], vec!["B, \"quoted\"", "", "", ""]]);
        assert!(table(&data, "org.missing", &[]).is_err());
        assert!(table(&data, "org", &[]).is_err(), "an object is not a list");
        assert!(parse_path("a..b").is_err() && parse_path("a.b-c").is_err() && parse_path("a.b_1").is_ok());
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let t = Table {
            headings: vec!["a".into(), "b".into()],
            rows: vec![vec!["x,y".into(), "say \"hi\"".into()], vec!["=SUM(A1)".into(), "-5".into()]],
        };
        let out = String::from_utf8(csv(&t)).unwrap_or_default();
        assert_eq!(out, "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n'=SUM(A1),-5\r\n");
    }

    #[test]
    fn pdfs_hold_the_text_and_break_pages() {
        let t = Table {
            headings: vec!["Name".into(), "Value".into()],
            rows: (0..120).map(|i| vec![format!("row {i}"), i.to_string()]).collect(),
        };
        let chart = ChartColumns { label_column: 0, value_column: 1 };
        let bytes = pdf("Title é", "sub", &t, Some(chart));
        let s = String::from_utf8_lossy(&bytes);
        assert!(s.starts_with("%PDF-") && s.contains("(row 119) Tj") && s.contains("re"));
        assert!(s.matches("/Type /Page\n").count() + s.matches("/Type /Page ").count() >= 1);
        assert!(s.contains("/Count 3"), "120 rows take three pages");
        assert_eq!(fit("abcdefghij", 20.0), "abc~");
    }
}
