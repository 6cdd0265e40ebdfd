//! Embeds the shipped flows and locales so `kanda` runs from any directory.
use std::{env, fs, path::Path};

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("toml" | "ftl")) {
            out.push(p.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").unwrap();
    // `sqlx::migrate!` embeds these: a new migration must rebuild the crate.
    println!("cargo:rerun-if-changed=migrations");
    let mut code = String::from("pub static FILES: &[(&str, &str, &str)] = &[\n");
    for (kind, dir) in [("flows", "flows"), ("locales", "locales")] {
        println!("cargo:rerun-if-changed={dir}");
        let base = Path::new(&root).join(dir);
        let mut files = Vec::new();
        collect(&base, &mut files);
        for f in files {
            let rel = Path::new(&f)
                .strip_prefix(&base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            println!("cargo:rerun-if-changed={f}");
            code.push_str(&format!("    ({kind:?}, {rel:?}, include_str!({f:?})),\n"));
        }
    }
    code.push_str("];\n");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("embedded.rs"),
        code,
    )
    .unwrap();
}
