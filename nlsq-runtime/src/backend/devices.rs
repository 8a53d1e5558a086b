//! Which CUDA devices a fit's data is spread over ([`CudaDevices`]).

/// The CUDA devices one fit's in-memory data is split over
/// ([`CurveFit::cuda_devices`](crate::CurveFit::cuda_devices)).
///
/// With more than one device, the data is cut into contiguous shares in device order, each
/// device's share in proportion to its total memory (a fixed property of the device, so the
/// split, and with it every bit of the result, does not depend on what else the devices hold).
/// Each device passes over its own share at the same time as the others; the partial passes
/// are summed on the host in device order, so the result does not depend on timing. It equals
/// the single-device fit to rounding (the sums are grouped differently).
///
/// Data larger than the devices' memory together goes through the chunked driver on the first
/// device. Only single fits of host data are spread; batch fits, resident data and streamed
/// sources use the first device.
///
/// ```
/// use nlsq_runtime::{Backend, CudaDevices, CurveFit, ExprModel};
/// let model = ExprModel::parse("a * exp(-b * x)").unwrap();
/// // Every visible GPU; without a CUDA device (or the `cuda` feature) the fit is an error.
/// let fit = CurveFit::new(&model)
///     .backend(Backend::Cuda)
///     .cuda_devices(CudaDevices::All);
/// # let _ = fit;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CudaDevices {
    /// Device 0 only.
    #[default]
    First,
    /// Every device the driver lists (`CUDA_VISIBLE_DEVICES` chooses which those are).
    All,
    /// These device ordinals, in this order. An ordinal may appear more than once: its device
    /// then holds several shares, passed over one after the other (useful to test the split on
    /// a machine with one GPU).
    List(Vec<usize>),
}

/// The most entries a [`CudaDevices::List`] may have.
pub const MAX_CUDA_DEVICES: usize = 64;

impl CudaDevices {
    /// Whether the data may be split over more than one share: [`CudaDevices::All`], or a
    /// list of more than one entry.
    pub fn is_multi(&self) -> bool {
        match self {
            CudaDevices::First => false,
            CudaDevices::All => true,
            CudaDevices::List(l) => l.len() > 1,
        }
    }

    /// Why the setting cannot be used, if it cannot: an empty list, or one of more than
    /// [`MAX_CUDA_DEVICES`] entries.
    pub fn check(&self) -> Result<(), String> {
        match self {
            CudaDevices::List(l) if l.is_empty() => Err("the list of devices is empty".into()),
            CudaDevices::List(l) if l.len() > MAX_CUDA_DEVICES => Err(format!(
                "{} devices listed; at most {MAX_CUDA_DEVICES}",
                l.len()
            )),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for CudaDevices {
    /// `first`, `all`, or the ordinals joined by commas (`0,1,3`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CudaDevices::First => f.write_str("first"),
            CudaDevices::All => f.write_str("all"),
            CudaDevices::List(l) => {
                let s: Vec<String> = l.iter().map(usize::to_string).collect();
                f.write_str(&s.join(","))
            }
        }
    }
}

impl std::str::FromStr for CudaDevices {
    type Err = String;

    /// `first`, `all`, or ordinals separated by commas (`0,1`).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "first" => Ok(CudaDevices::First),
            "all" => Ok(CudaDevices::All),
            list => {
                let ordinals = list
                    .split(',')
                    .map(|t| {
                        t.trim().parse::<usize>().map_err(|_| {
                            format!(
                                "`{}` is not a device ordinal (want all, first or 0,1,...)",
                                t.trim()
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let devices = CudaDevices::List(ordinals);
                devices.check()?;
                Ok(devices)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_form() {
        for s in ["first", "all", "0", "0,1,3", "0,0"] {
            let d: CudaDevices = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
        }
        assert_eq!(
            " 1 , 2 ".parse::<CudaDevices>(),
            Ok(CudaDevices::List(vec![1, 2]))
        );
        assert!(!"0".parse::<CudaDevices>().unwrap().is_multi());
        assert!("0,0".parse::<CudaDevices>().unwrap().is_multi());
        assert!(CudaDevices::All.is_multi() && !CudaDevices::First.is_multi());
    }

    #[test]
    fn bad_lists_are_refused_with_a_reason() {
        for bad in ["", "x", "0,", "-1", "1.5", "0,,1"] {
            let e = bad.parse::<CudaDevices>().unwrap_err();
            assert!(e.contains("is not a device ordinal"), "{bad}: {e}");
        }
        let long = vec!["0"; MAX_CUDA_DEVICES + 1].join(",");
        assert!(long.parse::<CudaDevices>().unwrap_err().contains("at most"));
        assert!(CudaDevices::List(vec![]).check().is_err());
    }
}
