//! How an invoice's figures follow from its lines, written once: a line's amount is
//! quantity x unit price rounded to cents; its tax is amount x rate / 100 rounded to cents;
//! the invoice's subtotal, tax and total are the sums of the rounded line figures (so a
//! printed invoice always adds up). Rounding is `core::money::cents` (half away from zero).

use opsgraph_core::money::cents;
use rust_decimal::Decimal;

/// One line's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineFigures {
    /// Quantity x unit price, in cents.
    pub amount: Decimal,
    /// Amount x tax rate / 100, in cents.
    pub tax: Decimal,
}

/// The figures of a line of `quantity` x `unit_price` at `tax_rate` percent.
pub fn line(quantity: Decimal, unit_price: Decimal, tax_rate: Decimal) -> LineFigures {
    let amount = cents(quantity * unit_price);
    LineFigures { amount, tax: cents(amount * tax_rate / Decimal::ONE_HUNDRED) }
}

/// An invoice's subtotal, tax total and total from its lines.
pub fn invoice(lines: &[LineFigures]) -> (Decimal, Decimal, Decimal) {
    let subtotal: Decimal = lines.iter().map(|l| l.amount).sum();
    let tax: Decimal = lines.iter().map(|l| l.tax).sum();
    (subtotal, tax, subtotal + tax)
}

/// What is still open on an invoice of `total` after `paid` and `credited` (in cents,
/// never below zero).
pub fn outstanding(total: Decimal, paid: Decimal, credited: Decimal) -> Decimal {
    let mut open = (total - paid - credited).max(Decimal::ZERO);
    open.rescale(2);
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn lines_round_each_figure_half_away_from_zero() {
        assert_eq!(line(d("3"), d("33.335"), d("20")), LineFigures { amount: d("100.01"), tax: d("20.00") });
        assert_eq!(line(d("1.5"), d("0.01"), d("19")), LineFigures { amount: d("0.02"), tax: d("0.00") });
        assert_eq!(line(d("1"), d("-10.005"), d("0")).amount, d("-10.01"));
    }

    /// Property: for random lines, stored figures (sums of rounded lines) equal figures
    /// recomputed from the same lines, the total is subtotal + tax, every figure has at most
    /// two decimals, and the outstanding amount never goes below zero.
    #[test]
    fn random_invoices_add_up() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..2000 {
            let n = 1 + next(12) as usize;
            let lines: Vec<LineFigures> = (0..n)
                .map(|_| {
                    let q = Decimal::new(1 + next(100_000) as i64, 3);
                    let p = Decimal::new(next(10_000_000) as i64, 2);
                    let r = Decimal::new(next(2_600) as i64, 2);
                    line(q, p, r)
                })
                .collect();
            let (sub, tax, total) = invoice(&lines);
            assert_eq!(total, sub + tax);
            assert_eq!(sub, lines.iter().map(|l| l.amount).sum::<Decimal>());
            for v in [sub, tax, total] {
                assert!(v.scale() <= 2 || v == v.round_dp(2), "{v}");
            }
            let paid = Decimal::new(next(1_000_000_000) as i64, 2);
            let open = outstanding(total, paid, Decimal::ZERO);
            assert!(open >= Decimal::ZERO && open.scale() == 2, "{open}");
        }
    }
}
