//! A loop's tape of a value of dynamic size: the value as it entered each iteration, copied
//! one after the other into one buffer, which is allocated once for the whole loop.
//!
//! A `Vec` of the values themselves would keep one heap buffer per iteration, so the forward
//! loop would allocate a new value every iteration; with the copies here, the old value's
//! buffer is free for the next iteration's result.

use nalgebra::{ComplexField, Dim, Matrix, MatrixView, MatrixViewMut, Storage, U1};

/// The values a matrix of dynamic size took, in order; entry `i` is read as a view.
pub struct FlatTape<T, R, C> {
    entries: Vec<T>,
    /// Where each value starts in `entries`, and where the next one would.
    starts: Vec<usize>,
    shapes: Vec<(R, C)>,
}

impl<T: ComplexField, R: Dim, C: Dim> FlatTape<T, R, C> {
    /// A tape for `iterations` values (more may be pushed).
    pub fn with_capacity(iterations: usize) -> Self {
        let mut starts = Vec::with_capacity(iterations + 1);
        starts.push(0);
        FlatTape {
            entries: Vec::new(),
            starts,
            shapes: Vec::with_capacity(iterations),
        }
    }

    /// A copy of `m` at the end; the first value sets aside room for as many values of its
    /// size as there are iterations.
    pub fn push<S: Storage<T, R, C>>(&mut self, m: &Matrix<T, R, C, S>) {
        if self.shapes.is_empty() {
            self.entries
                .reserve(m.len() * self.shapes.capacity().max(1));
        }
        // Copied as one column-major block (nalgebra's entry iterator does not vectorise).
        let start = self.entries.len();
        self.entries.resize(start + m.len(), T::zero());
        let (rows, cols) = m.shape_generic();
        MatrixViewMut::from_slice_generic(&mut self.entries[start..], rows, cols).copy_from(m);
        self.starts.push(self.entries.len());
        self.shapes.push((rows, cols));
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether no value was pushed.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// Value `i`, as it was pushed.
    pub fn at(&self, i: usize) -> MatrixView<'_, T, R, C, U1, R> {
        let (rows, cols) = self.shapes[i];
        let entries = &self.entries[self.starts[i]..self.starts[i + 1]];
        MatrixView::from_slice_generic(entries, rows, cols)
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, DVector, Dyn, OMatrix, U2};

    use super::FlatTape;

    #[test]
    fn values_of_any_size_read_back_as_pushed() {
        let mut tape = FlatTape::with_capacity(2);
        let values = [
            DMatrix::from_fn(3, 2, |i, j| (i * 10 + j) as f64),
            DMatrix::from_fn(1, 4, |i, j| (i + j) as f64 - 7.0),
            DMatrix::zeros(0, 3),
            DMatrix::from_element(2, 2, 0.5),
        ];
        for v in &values {
            tape.push(v);
        }
        assert_eq!(tape.len(), values.len());
        for (i, v) in values.iter().enumerate() {
            assert_eq!(tape.at(i), *v);
        }
    }

    #[test]
    fn views_and_fixed_columns() {
        let big = DMatrix::from_fn(5, 5, |i, j| (i * 5 + j) as f64);
        let mut tape = FlatTape::<f64, Dyn, Dyn>::with_capacity(1);
        tape.push(&big.view((1, 2), (3, 2)));
        assert_eq!(tape.at(0), big.view((1, 2), (3, 2)));

        let mut vectors = FlatTape::with_capacity(3);
        let v = DVector::from_vec(vec![1.0, -2.0, 3.0]);
        vectors.push(&v);
        vectors.push(&(&v * 2.0));
        assert_eq!(vectors.at(1), v * 2.0);

        let mut pairs = FlatTape::with_capacity(1);
        let m = OMatrix::<f64, Dyn, U2>::from_fn(3, |i, j| (i + 2 * j) as f64);
        pairs.push(&m);
        assert_eq!(pairs.at(0), m);
    }
}
