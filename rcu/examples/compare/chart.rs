//! Draws read throughput by thread count, one panel per read share, as an SVG file.

use crate::Measurement;
use plotters::prelude::*;
use std::path::Path;

const PALETTE: [RGBColor; 8] = [
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Writes the chart to `path`. `names` fixes the series order and colours.
pub fn write_svg(
    path: &Path,
    names: &[&str],
    shares: &[f64],
    threads: &[usize],
    results: &[Measurement],
    caption: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let width = 420 * shares.len() as u32 + 40;
    let root = SVGBackend::new(path, (width, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(caption, ("sans-serif", 18))?;
    let panels = root.split_evenly((1, shares.len()));

    let max_threads = threads.iter().copied().max().unwrap_or(1) as f64;
    let min_threads = threads.iter().copied().min().unwrap_or(1) as f64;
    for (panel, &share) in panels.iter().zip(shares) {
        let in_panel = |m: &&Measurement| m.share == share;
        let peak = results
            .iter()
            .filter(in_panel)
            .map(|m| m.reads_per_second() / 1e6)
            .fold(0.0_f64, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("read share {}%", share * 100.0), ("sans-serif", 15))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(
                min_threads - 0.5..max_threads + 0.5,
                // Headroom above the data keeps the legend from covering it.
                0.0..peak * 1.6 + 1e-9,
            )?;
        chart
            .configure_mesh()
            .x_desc("threads")
            .y_desc("million reads/s (all threads)")
            .x_labels((max_threads - min_threads) as usize + 2)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()?;

        for (index, name) in names.iter().enumerate() {
            let color = PALETTE[index % PALETTE.len()];
            let points: Vec<(f64, f64)> = results
                .iter()
                .filter(in_panel)
                .filter(|m| m.name == *name)
                .map(|m| (m.threads as f64, m.reads_per_second() / 1e6))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(
                points
                    .into_iter()
                    .map(|point| Circle::new(point, 3, color.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 11))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
