//! Cycles among a crate's top-level modules: the strongly connected components of the import
//! graph (Tarjan), and how a problem message describes one.

use super::Graph;

/// The strongly connected components of more than one module, each sorted by name (Tarjan).
pub(super) fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let names: Vec<&String> = graph.modules.iter().collect();
    let index_of = |name: &String| names.iter().position(|n| *n == name);
    let mut successors = vec![Vec::new(); names.len()];
    for (from, to) in graph.imports.keys() {
        if let (Some(from), Some(to)) = (index_of(from), index_of(to)) {
            successors[from].push(to);
        }
    }
    let mut tarjan = Tarjan {
        successors: &successors,
        index: vec![None; names.len()],
        low: vec![0; names.len()],
        on_stack: vec![false; names.len()],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for v in 0..names.len() {
        if tarjan.index[v].is_none() {
            tarjan.visit(v);
        }
    }
    let mut cycles: Vec<Vec<String>> = tarjan
        .components
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let mut members: Vec<String> = component.iter().map(|&v| names[v].clone()).collect();
            members.sort();
            members
        })
        .collect();
    cycles.sort();
    cycles
}

/// Tarjan's strongly connected components over module indices.
struct Tarjan<'a> {
    successors: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    components: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.next);
        self.low[v] = self.next;
        self.next += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        let successors = self.successors;
        for &w in &successors[v] {
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(index) if self.on_stack[w] => self.low[v] = self.low[v].min(index),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}

/// `modules in a cycle: a, b (...)`, then each import inside the cycle with one place of it.
pub(super) fn describe_cycle(cycle: &[String], graph: &Graph) -> String {
    let mut text = format!(
        "modules in a cycle: {} (each import in it, with one place):",
        cycle.join(", ")
    );
    for ((from, to), places) in &graph.imports {
        if cycle.contains(from) && cycle.contains(to) {
            text.push_str(&format!("\n    {from} -> {to} at {}", places[0]));
        }
    }
    text
}
