"""Pure Polars transforms from normalized tables to marts: LazyFrames in, a LazyFrame out, no I/O."""
