//! The AWS `config` and `credentials` files: parsing, the merged view, and
//! profile resolution.

pub mod ini;
