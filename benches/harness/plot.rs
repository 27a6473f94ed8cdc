//! The chart of requests/s against list size, as SVG.

use std::collections::BTreeMap;
use std::fmt::Write as _;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 80.0;
const BOTTOM: f64 = 50.0;
const TOP: f64 = 40.0;
const RIGHT: f64 = 200.0;

/// By list size: (`GET /todos/`, nginx) and (`GET /`, nginx) in requests/s.
type Points = BTreeMap<usize, [(f64, f64); 2]>;

/// Both axes logarithmic: list sizes across, requests/s up, in whole decades.
struct Scale {
    x_min: f64,
    x_max: f64,
    y_min: f64,
    y_max: f64,
}

impl Scale {
    fn of(points: &Points) -> Scale {
        let first = points.keys().next().map_or(1.0, |&s| s as f64).log10();
        let last = points.keys().last().map_or(10.0, |&s| s as f64).log10();
        let values: Vec<f64> = points
            .values()
            .flat_map(|pair| pair.iter().flat_map(|(a, b)| [*a, *b]))
            .filter(|v| *v > 0.0)
            .collect();
        let y_min = values
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .log10()
            .floor();
        let y_max = values
            .iter()
            .copied()
            .fold(1.0, f64::max)
            .log10()
            .ceil()
            .max(y_min + 1.0);
        Scale {
            x_min: first,
            x_max: last.max(first + 1.0),
            y_min,
            y_max,
        }
    }

    fn x(&self, size: f64) -> f64 {
        LEFT + (size.log10() - self.x_min) / (self.x_max - self.x_min) * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, value: f64) -> f64 {
        TOP + (self.y_max - value.max(1.0).log10()) / (self.y_max - self.y_min)
            * (HEIGHT - TOP - BOTTOM)
    }
}

/// Requests/s against list size, both axes logarithmic, as SVG.
pub fn plot(points: &Points) -> String {
    let scale = Scale::of(points);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    axes(&mut svg, &scale, points);
    series(&mut svg, &scale, points);
    svg.push_str("</svg>\n");
    svg
}

/// Grid lines at each decade of requests/s, the list sizes, and the axes' names.
fn axes(svg: &mut String, scale: &Scale, points: &Points) {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "decades of requests per second: small whole numbers"
    )]
    let decades = (scale.y_min as i32)..=(scale.y_max as i32);
    for exponent in decades {
        let value = 10f64.powi(exponent);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{value}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            scale.y(value) + 4.0,
            y = scale.y(value)
        );
    }
    for &size in points.keys() {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{size}</text>",
            scale.x(size as f64),
            HEIGHT - BOTTOM + 18.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">todos in the list</text>\
         <text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">requests/s</text>",
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 12.0,
        HEIGHT / 2.0,
        HEIGHT / 2.0
    );
}

/// The four lines (server and nginx, for the list and the page), with their legend.
fn series(svg: &mut String, scale: &Scale, points: &Points) {
    let series = [
        ("GET /todos/", 0, false, "#b83f45"),
        ("nginx, same JSON", 0, true, "#b83f45"),
        ("GET /", 1, false, "#2a6fb0"),
        ("nginx, same page", 1, true, "#2a6fb0"),
    ];
    for (index, (label, which, ceiling, colour)) in series.iter().enumerate() {
        let line: Vec<String> = points
            .iter()
            .map(|(&size, pair)| {
                let (app, nginx) = pair[*which];
                let value = if *ceiling { nginx } else { app };
                format!("{:.1},{:.1}", scale.x(size as f64), scale.y(value))
            })
            .collect();
        let dash = if *ceiling {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
            line.join(" ")
        );
        let legend_y = TOP + 20.0 * index as f64;
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{legend_y}\" y2=\"{legend_y}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"{}\">{label}</text>",
            WIDTH - RIGHT + 12.0,
            WIDTH - RIGHT + 40.0,
            WIDTH - RIGHT + 46.0,
            legend_y + 4.0
        );
    }
}
