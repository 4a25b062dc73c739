//! Small charts drawn on the server as SVG: no script, no fonts from the internet, readable in
//! Chinese (the page's fonts), values on hover through SVG `<title>`.

use std::fmt::Write;

/// Escapes text for SVG content and attributes.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal bars of each indicator's value as a share of its benchmark, with the benchmark
/// (100%) as a line. `bars` are (label, value ÷ benchmark, hover text); shares are clipped to
/// 0–300% for drawing only.
pub fn benchmark_bars(bars: &[(String, f64, String)]) -> String {
    let (row, label_w, plot_w) = (26.0, 190.0, 420.0);
    let height = row * bars.len() as f64 + 24.0;
    let max = 3.0;
    let x = |share: f64| label_w + plot_w * share.clamp(0.0, max) / max;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" width="100%" role="img" font-size="13">"#,
        w = label_w + plot_w + 20.0
    );
    for (i, (label, share, hover)) in bars.iter().enumerate() {
        let y = 6.0 + row * i as f64;
        let _ = write!(
            svg,
            r##"<g><title>{hover}</title><text x="{tx}" y="{ty}" text-anchor="end">{label}</text><rect x="{label_w}" y="{y}" width="{bw:.1}" height="16" fill="#2f6f5e"/></g>"##,
            hover = escape(hover),
            tx = label_w - 8.0,
            ty = y + 12.5,
            label = escape(label),
            bw = x(*share) - label_w,
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{bx:.1}" y1="0" x2="{bx:.1}" y2="{h}" stroke="#b42318" stroke-dasharray="4 3"/><text x="{bx:.1}" y="{ty}" fill="#b42318" text-anchor="middle">100%</text></svg>"##,
        bx = x(1.0),
        h = height - 14.0,
        ty = height - 2.0,
    );
    svg
}

/// Fill colours of classes in order (A, B, C, D, then grey): green to red, distinguishable in
/// print and by most colour-blind readers by lightness.
const CLASS_COLOURS: [&str; 4] = ["#1b7f5a", "#6fae8b", "#e0a43a", "#b42318"];

/// One horizontal bar per row, split by class and scaled to the largest row; each segment's
/// title gives the class, the count and its share.
pub fn class_bars(rows: &[(String, Vec<(String, u32)>)]) -> String {
    let (row, label_w, plot_w) = (24.0, 120.0, 480.0);
    let height = row * rows.len() as f64 + 8.0;
    let max = rows
        .iter()
        .map(|(_, c)| c.iter().map(|(_, n)| n).sum::<u32>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" width="100%" role="img" font-size="13">"#,
        w = label_w + plot_w + 60.0
    );
    for (i, (label, counts)) in rows.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let total: u32 = counts.iter().map(|(_, n)| n).sum();
        let _ = write!(
            svg,
            r#"<text x="{tx}" y="{ty}" text-anchor="end">{label}</text>"#,
            tx = label_w - 8.0,
            ty = y + 13.0,
            label = escape(label),
        );
        let mut x = label_w;
        for (k, (class, n)) in counts.iter().enumerate() {
            let w = plot_w * f64::from(*n) / f64::from(max);
            let share = if total > 0 {
                f64::from(*n) / f64::from(total) * 100.0
            } else {
                0.0
            };
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="16" fill="{fill}"><title>{label} · {class}: {n} ({share:.1}%)</title></rect>"#,
                fill = CLASS_COLOURS.get(k).copied().unwrap_or("#888888"),
                label = escape(label),
                class = escape(class),
            );
            x += w;
        }
        let _ = write!(
            svg,
            r#"<text x="{tx:.1}" y="{ty}">{total}</text>"#,
            tx = x + 6.0,
            ty = y + 13.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One column of [`columns`]: its label under the axis, its height, the hover text, and an
/// optional marker (e.g. the target) drawn as a dashed line across the column.
pub struct Column {
    pub label: String,
    pub value: f64,
    pub hover: String,
    pub marker: Option<f64>,
}

/// Vertical columns scaled to the largest value or marker, with values on hover and the markers
/// as dashed red lines (what a target allows).
pub fn columns(cols: &[Column]) -> String {
    let (height, top, bottom, col_w, gap) = (180.0, 16.0, 22.0, 36.0, 10.0);
    let max = cols
        .iter()
        .flat_map(|c| [c.value, c.marker.unwrap_or(0.0)])
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let scale = if max > 0.0 {
        (height - top - bottom) / max
    } else {
        0.0
    };
    // Drawn at its natural size (at least 320 px wide), shrinking on narrow screens: two columns
    // stretched to the page's width would be a wall of colour.
    let width = (20.0 + (col_w + gap) * cols.len() as f64).max(320.0);
    let base = height - bottom;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" class="chart-fluid" role="img" font-size="11">"#
    );
    let _ = write!(
        svg,
        r##"<line x1="10" y1="{base}" x2="{x2}" y2="{base}" stroke="#888"/>"##,
        x2 = width - 5.0
    );
    for (i, c) in cols.iter().enumerate() {
        let x = 15.0 + (col_w + gap) * i as f64;
        let h = (c.value.max(0.0) * scale).max(0.0);
        let _ = write!(
            svg,
            r##"<g><title>{hover}</title><rect x="{x:.1}" y="{y:.1}" width="{col_w}" height="{h:.1}" fill="#2f6f5e"/></g><text x="{tx:.1}" y="{ly}" text-anchor="middle">{label}</text>"##,
            hover = escape(&c.hover),
            y = base - h,
            tx = x + col_w / 2.0,
            ly = height - 6.0,
            label = escape(&c.label),
        );
        if let Some(m) = c.marker.filter(|m| m.is_finite()) {
            let my = base - m.max(0.0) * scale;
            let _ = write!(
                svg,
                r##"<line x1="{x1:.1}" y1="{my:.1}" x2="{x2:.1}" y2="{my:.1}" stroke="#b42318" stroke-width="2" stroke-dasharray="4 3"/>"##,
                x1 = x - 3.0,
                x2 = x + col_w + 3.0,
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_have_titles_and_escape_text() {
        let svg = benchmark_bars(&[
            ("亩均税收".into(), 0.5, "11.3 / 20.1".into()),
            ("a<b".into(), 9.0, "x & y".into()),
        ]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>11.3 / 20.1</title>") && svg.contains("亩均税收"));
        assert!(svg.contains("a&lt;b") && svg.contains("x &amp; y"));
        assert_eq!(svg.matches("<rect").count(), 2);
    }

    #[test]
    fn class_bars_scale_to_the_largest_row_and_title_each_segment() {
        let svg = class_bars(&[
            ("姑苏区".into(), vec![("A".into(), 3), ("D".into(), 1)]),
            ("吴江区".into(), vec![("A".into(), 1), ("D".into(), 1)]),
        ]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // Largest row (4) fills 480 px: its A segment is 3/4 of that.
        assert!(svg.contains(r#"x="120.0" y="4" width="360.0""#));
        assert!(svg.contains("<title>姑苏区 · A: 3 (75.0%)</title>"));
        assert_eq!(svg.matches("<rect").count(), 4);
    }

    #[test]
    fn columns_scale_to_the_largest_value_or_marker() {
        let svg = columns(&[
            Column {
                label: "1月".into(),
                value: 10.0,
                hover: "10 kWh".into(),
                marker: None,
            },
            Column {
                label: "<2>".into(),
                value: 5.0,
                hover: "5".into(),
                marker: Some(20.0),
            },
        ]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>10 kWh</title>") && svg.contains("&lt;2&gt;"));
        // The marker (20) is the top: the first column (10) is half the plot's 142 px.
        assert!(svg.contains(r#"height="71.0""#), "{svg}");
        assert!(svg.contains("stroke-dasharray"));
    }
}
