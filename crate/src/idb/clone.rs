//! JavaScript values to and from the backup value model (`crate::backup`).
