//! A store: its catalog and brand, read once and shared by every request.

use serde_json::Value;

use super::brand::Brand;
use super::catalog::Catalog;
use super::input::{parse_json, Warning, Warnings};
use crate::error::Result;

/// Largest catalog or brand document accepted, in bytes.
pub const MAX_STORE_JSON_BYTES: usize = 16 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    pub catalog: Catalog,
    pub brand: Brand,
    /// What was dropped or clamped while reading the catalog and brand.
    pub warnings: Vec<Warning>,
}

impl Store {
    pub fn from_values(catalog: &Value, brand: &Value) -> Result<Store> {
        let mut w = Warnings::default();
        let catalog = Catalog::from_value(catalog, &mut w)?;
        let brand = Brand::from_value(brand, &mut w)?;
        Ok(Store {
            catalog,
            brand,
            warnings: w.into_vec(),
        })
    }

    pub fn from_json(catalog: &str, brand: &str) -> Result<Store> {
        let c = parse_json(catalog, "catalog", MAX_STORE_JSON_BYTES)?;
        let b = parse_json(brand, "brand", MAX_STORE_JSON_BYTES)?;
        Self::from_values(&c, &b)
    }

    /// Reads `catalog.json` and `brand.json` from a store folder.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: &std::path::Path) -> Result<Store> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| {
                crate::Error::invalid_input(name, format!("cannot read {}: {e}", path.display()))
            })
        };
        Self::from_json(&read("catalog.json")?, &read("brand.json")?)
    }

    /// The store's display name: the catalog's, else the brand's.
    pub fn name(&self) -> &str {
        if !self.catalog.store.is_empty() {
            &self.catalog.store
        } else if !self.brand.name.is_empty() {
            &self.brand.name
        } else {
            "our store"
        }
    }
}
