//! Pressure stall information, `/proc/pressure/{cpu,io,memory}` (Linux 4.20+, `CONFIG_PSI`).

use super::{Failure, parse};
use crate::snapshot::{Pressure, PressureLine, PressureResource, pct, round2};

const RESOURCES: [&str; 3] = ["cpu", "io", "memory"];

type Reading = [(Option<parse::PsiLine>, Option<parse::PsiLine>); 3];

pub struct Start(Reading);

fn read_all() -> Result<Reading, Failure> {
    let mut out: Reading = [(None, None); 3];
    let mut any = false;
    for (slot, name) in out.iter_mut().zip(RESOURCES) {
        let path = format!("/proc/pressure/{name}");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                *slot = parse::pressure(&text);
                any = true;
            }
            // Present but unreadable: PSI compiled in and switched off (`psi=0`) gives EOPNOTSUPP.
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Failure::Skipped(format!(
                    "cannot read {path}: {e} (pressure stall information is switched off; boot with psi=1)"
                )));
            }
            Err(_) => {}
        }
    }
    if any {
        Ok(out)
    } else {
        Err(Failure::Skipped("no /proc/pressure: the kernel has no pressure stall information (Linux 4.20+ with CONFIG_PSI)".into()))
    }
}

pub fn begin() -> Result<Start, Failure> {
    read_all().map(Start)
}

pub fn finish(start: Start, seconds: f64) -> Result<Pressure, Failure> {
    let end = read_all()?;
    let mut res = start
        .0
        .iter()
        .zip(&end)
        .map(|(a, b)| resource(a, b, seconds));
    Ok(Pressure {
        cpu: res.next().flatten(),
        io: res.next().flatten(),
        memory: res.next().flatten(),
    })
}

type Pair = (Option<parse::PsiLine>, Option<parse::PsiLine>);

fn resource(a: &Pair, b: &Pair, seconds: f64) -> Option<PressureResource> {
    Some(PressureResource {
        some: line(a.0, b.0?, seconds),
        full: b.1.map(|full| line(a.1, full, seconds)),
    })
}

fn line(a: Option<parse::PsiLine>, b: parse::PsiLine, seconds: f64) -> PressureLine {
    let window_pct = a
        .and_then(|a| b.total_us.checked_sub(a.total_us))
        .and_then(|d| pct(d as f64 / 1e6, seconds))
        .map(|p| round2(p.min(100.0)));
    PressureLine {
        avg10: b.avg10,
        avg60: b.avg60,
        avg300: b.avg300,
        total_us: b.total_us,
        window_pct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_share_from_totals() {
        let a = parse::pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n");
        let b = parse::pressure("some avg10=20.00 avg60=5.00 avg300=1.00 total=2000000\n");
        let r = resource(&a, &b, 5.0).unwrap();
        assert_eq!(r.some.window_pct, Some(20.0));
        assert_eq!(r.some.avg10, 20.0);
        assert!(r.full.is_none());
    }
}
