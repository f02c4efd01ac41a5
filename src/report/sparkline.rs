//! Series as terminal sparklines: one Unicode block character (`▁▂▃▄▅▆▇█`) per point, scaled
//! from the series' lowest to its highest value; a missing point is a space.

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The sparkline of `points` between `min` and `max` (a flat series is drawn at the bottom).
#[must_use]
pub fn line(points: &[Option<f64>], min: f64, max: f64) -> String {
    let range = max - min;
    points
        .iter()
        .map(|p| match p {
            None => ' ',
            Some(v) if !v.is_finite() => ' ',
            Some(_) if range <= 0.0 || !range.is_finite() => BLOCKS[0],
            Some(v) => {
                let level = ((v - min) / range * 7.0).round().clamp(0.0, 7.0);
                BLOCKS[level as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_from_lowest_to_highest() {
        let p = [Some(0.0), Some(5.0), Some(10.0), None, Some(2.5)];
        assert_eq!(line(&p, 0.0, 10.0), "▁▅█ ▃");
    }

    #[test]
    fn flat_and_odd_series_do_not_panic() {
        assert_eq!(line(&[Some(3.0), Some(3.0)], 3.0, 3.0), "▁▁");
        assert_eq!(line(&[Some(f64::NAN), Some(1.0)], 0.0, 1.0), " █");
        assert_eq!(line(&[Some(50.0)], 0.0, 10.0), "█", "clamped");
        assert_eq!(line(&[], 0.0, 1.0), "");
    }
}
