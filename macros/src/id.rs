//! The names of nodes and regions of the IR, below every stage (a dimension
//! may be an integer node's value, so shapes name nodes too).

/// Index of a node in the graph (`ir::Graph`). A node's arguments always have smaller ids,
/// so id order is a topological order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Id(pub u32);

impl Id {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Index of a region: a block of nodes computed together, such as the body of
/// a loop, which the node owning it runs (once per iteration). Region 0 is the
/// function body. Nodes of a region may read nodes of the regions enclosing
/// it, which the owning node lists among its arguments (its captures), as
/// MLIR's `scf.for` reads values from above.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Default)]
pub struct RegionId(pub u32);
