//! `MaybeF64`: an optional number in 8 bytes (NaN marks "none"), for results held by the million.

use serde::{Deserialize, Serialize};

/// An `Option<f64>` packed into one `f64`: NaN is `None`. Serialises as `null` or a number.
#[derive(Clone, Copy, Default)]
pub struct MaybeF64(f64);

impl MaybeF64 {
    pub const NONE: MaybeF64 = MaybeF64(f64::NAN);

    pub fn get(self) -> Option<f64> {
        (!self.0.is_nan()).then_some(self.0)
    }

    pub fn is_some(self) -> bool {
        !self.0.is_nan()
    }
}

impl From<Option<f64>> for MaybeF64 {
    fn from(value: Option<f64>) -> MaybeF64 {
        MaybeF64(value.unwrap_or(f64::NAN))
    }
}

impl From<f64> for MaybeF64 {
    fn from(value: f64) -> MaybeF64 {
        MaybeF64(value)
    }
}

impl PartialEq for MaybeF64 {
    fn eq(&self, other: &MaybeF64) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for MaybeF64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for MaybeF64 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MaybeF64 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<MaybeF64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_round_trips() {
        assert_eq!(MaybeF64::from(Some(1.5)).get(), Some(1.5));
        assert_eq!(MaybeF64::from(None).get(), None);
        assert_eq!(MaybeF64::NONE, MaybeF64::from(None));
        let json = serde_json::to_string(&[MaybeF64::from(Some(2.0)), MaybeF64::NONE]).unwrap();
        assert_eq!(json, "[2.0,null]");
        let back: Vec<MaybeF64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back[1].get(), None);
    }
}
