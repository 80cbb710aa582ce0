//! `samebits train --plot FILE.svg`: the plot holds both panels, a run prints its report even
//! when the plot cannot be written, and a file the user already has is never replaced without
//! `--overwrite`.

use samebits_tests::samebits;
use std::fs;
use std::path::{Path, PathBuf};

/// An empty folder of its own for each test, under the build's temporary folder (reachable on
/// every platform the tests run on, WebAssembly included), separate per target.
fn folder(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "plot-{}-{}-{name}",
        std::env::consts::ARCH,
        std::env::consts::OS
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn train_plot(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let path = path.to_str().unwrap();
    let mut args = vec!["train", "--epochs", "2", "--hidden", "16", "--threads", "1", "--plot", path];
    args.extend_from_slice(extra);
    samebits(&args)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// The `points` attribute of each polyline.
fn polylines(svg: &str) -> Vec<&str> {
    svg.match_indices("<polyline")
        .map(|(i, _)| {
            let tag = &svg[i..i + svg[i..].find('>').unwrap()];
            let start = tag.find("points=\"").unwrap() + 8;
            &tag[start..start + tag[start..].find('"').unwrap()]
        })
        .collect()
}

#[test]
fn a_plot_shows_loss_and_accuracy_per_epoch() {
    let dir = folder("both-panels");
    let path = dir.join("run.svg");
    let (code, out, err) = train_plot(&path, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with("digest ")), "{out}");
    assert!(out.contains(&format!("plot written to {}", path.display())), "{out}");
    let svg = fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>\n"), "{svg}");
    assert!(svg.contains(">Training loss per epoch</text>"), "{svg}");
    assert!(svg.contains(">Test accuracy per epoch</text>"), "{svg}");
    let lines = polylines(&svg);
    assert_eq!(lines.len(), 2, "{svg}");
    for points in lines {
        assert_eq!(points.split_whitespace().count(), 2, "one point per epoch: {points}");
    }
    assert_eq!(names(&dir), ["run.svg"]);

    // The same run draws the same bytes; --json keeps stdout one JSON object.
    let again = dir.join("again.svg");
    let (code, out, err) = train_plot(&again, &["--json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(fs::read(&again).unwrap(), svg.as_bytes());
}

#[test]
fn an_existing_file_is_kept_unless_overwrite_is_given() {
    let dir = folder("existing");
    let path = dir.join("mine.svg");
    fs::write(&path, "my own file").unwrap();
    for json in [false, true] {
        let (code, out, err) = train_plot(&path, if json { &["--json"] } else { &[] });
        assert_eq!(code, 1, "{err}");
        // The run's result comes first, whole.
        if json {
            serde_json::from_str::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
        } else {
            assert!(out.lines().any(|l| l.starts_with("digest ")), "{out}");
            assert!(!out.contains("plot written"), "{out}");
        }
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("samebits: error: "), "{err}");
        assert!(err.contains("already exists") && err.contains("--overwrite"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "my own file");
        assert_eq!(names(&dir), ["mine.svg"], "nothing left behind");
    }

    let (code, _, err) = train_plot(&path, &["--overwrite"]);
    assert_eq!(code, 0, "{err}");
    assert!(fs::read_to_string(&path).unwrap().contains(">Training loss per epoch</text>"));
    assert_eq!(names(&dir), ["mine.svg"]);
}

#[test]
fn an_unwritable_path_is_one_line_after_the_report() {
    let dir = folder("unwritable");
    let path = dir.join("no-such-folder").join("run.svg");
    let (code, out, err) = train_plot(&path, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(out.lines().any(|l| l.starts_with("digest ")), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("samebits: error: cannot write {}: ", path.display())), "{err}");
    assert!(names(&dir).is_empty());

    // A folder is not a file name to write to, with or without --overwrite.
    for extra in [&[][..], &["--overwrite"][..]] {
        let (code, _, err) = train_plot(&dir, extra);
        assert_eq!(code, 1, "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("samebits: error: "), "{err}");
        assert!(dir.is_dir());
    }
}

#[test]
fn overwrite_needs_a_plot() {
    let (code, out, err) = samebits(&["train", "--epochs", "1", "--overwrite"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("--plot"), "{err}");
}
