//! Early returns where guard clauses put them, read as the `if`s they stand for:
//! `if c { …; return a; } rest` is `if c { …; a } else { rest }`, and a final `return e;` is the
//! body's value `e`. A `return` anywhere else (in a loop, deeper in a branch) stays an error.

use syn::{Block, Expr, ExprIf, Stmt};

/// `block` with its top-level guard clauses and final `return` read as values.
pub fn as_values(block: &Block) -> Block {
    Block {
        brace_token: block.brace_token,
        stmts: rewrite(&block.stmts),
    }
}

fn rewrite(stmts: &[Stmt]) -> Vec<Stmt> {
    for (k, stmt) in stmts.iter().enumerate() {
        let last = k + 1 == stmts.len();
        let value = match stmt {
            Stmt::Expr(Expr::Return(r), _) if last => r.expr.as_deref().cloned(),
            Stmt::Expr(Expr::If(guard), _) if !last && guard.else_branch.is_none() => {
                returned(&guard.then_branch).map(|then_branch| {
                    let rest = Block {
                        brace_token: Default::default(),
                        stmts: rewrite(&stmts[k + 1..]),
                    };
                    Expr::If(ExprIf {
                        then_branch,
                        else_branch: Some((Default::default(), Box::new(syn::parse_quote!(#rest)))),
                        ..guard.clone()
                    })
                })
            }
            _ => None,
        };
        if let Some(value) = value {
            let mut out = stmts[..k].to_vec();
            out.push(Stmt::Expr(value, None));
            return out;
        }
    }
    stmts.to_vec()
}

/// `block` ending in `return v;` with `v` as its value instead.
fn returned(block: &Block) -> Option<Block> {
    let (Stmt::Expr(Expr::Return(r), _), rest) = block.stmts.split_last()? else {
        return None;
    };
    let mut stmts = rest.to_vec();
    stmts.push(Stmt::Expr(*r.expr.clone()?, None));
    Some(Block {
        brace_token: block.brace_token,
        stmts,
    })
}
