//! Money rules written once: amounts are exact decimals with a currency, and every amount
//! that is computed (converted, weighted, averaged) is reported rounded to cents, half away
//! from zero, after summing: never per row, never a float.

use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds money to cents, half away from zero (the rule of every computed total).
pub fn cents(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_round_half_away_from_zero() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        assert_eq!(cents(d("1234.565")), d("1234.57"));
        assert_eq!(cents(d("1234.575")), d("1234.58"));
        assert_eq!(cents(d("0.005")), d("0.01"));
        assert_eq!(cents(d("-0.005")), d("-0.01"));
        assert_eq!(cents(d("2.004999")), d("2.00"));
        assert_eq!(cents(d("7")).to_string(), "7");
    }
}
