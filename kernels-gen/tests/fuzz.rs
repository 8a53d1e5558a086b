//! A grammar-based fuzzer for the model compiler: random expressions of the model language and
//! its near misses (wrong arities, huge and tiny literals, unicode, deep nesting, long sums,
//! truncated and mutated input), compiled as expression strings and as `fn` items.
//!
//! The fuzz loop runs in a child process (this test binary, re-executed with
//! `NLSQ_FUZZ_CHILD` set) on a thread with the default 2 MiB stack, so that a stack overflow or
//! any other abort is caught: the child writes each input to a file before compiling it, and the
//! parent reports the input that the child died on. Every input must end in a model or an
//! error, each within `NLSQ_FUZZ_SLOW_SECONDS` (default 5).
//!
//! - `NLSQ_FUZZ_SECONDS`: the time budget (default 3; CI runs 25);
//! - `NLSQ_FUZZ_SEED`: the seed (default: from the clock; printed, to reproduce a run).

use kernels_gen::Compiled;
use kernels_gen::parse::{model_from_expr, model_from_source};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const CHILD: &str = "NLSQ_FUZZ_CHILD";
const INPUT: &str = "NLSQ_FUZZ_INPUT";

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

#[test]
fn grammar_fuzz() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let seconds = env_u64("NLSQ_FUZZ_SECONDS").unwrap_or(3);
    let seed = env_u64("NLSQ_FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let input: PathBuf =
        std::env::temp_dir().join(format!("nlsq-fuzz-{}-{seed}.txt", std::process::id()));
    let exe = std::env::current_exe().expect("the test binary's path");
    println!("fuzzing for {seconds} s with NLSQ_FUZZ_SEED={seed}");
    let mut proc = Command::new(exe)
        .args(["grammar_fuzz", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(INPUT, &input)
        .env("NLSQ_FUZZ_SECONDS", seconds.to_string())
        .env("NLSQ_FUZZ_SEED", seed.to_string())
        .spawn()
        .expect("start the fuzz child");
    // A hang (an input that never finishes) is caught here.
    let deadline = Instant::now() + Duration::from_secs(seconds + 60);
    let status = loop {
        if let Some(s) = proc.try_wait().expect("wait for the fuzz child") {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = proc.kill();
            let _ = proc.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if status.is_some_and(|s| s.success()) {
        let _ = std::fs::remove_file(&input);
        return;
    }
    let text = std::fs::read(&input).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let shown: String = text.chars().take(2000).collect();
    panic!(
        "the fuzz child {} on this input ({} bytes, kept in {}; rerun with NLSQ_FUZZ_SEED={seed}):\n{shown}",
        match status {
            Some(s) => format!("failed ({s})"),
            None => "hung".to_string(),
        },
        text.len(),
        input.display()
    );
}

/// The fuzz loop: on a 2 MiB-stack thread, until the time budget is spent.
fn child() {
    let seconds = env_u64("NLSQ_FUZZ_SECONDS").unwrap_or(3);
    let seed = env_u64("NLSQ_FUZZ_SEED").unwrap_or(1);
    let slow = Duration::from_secs(env_u64("NLSQ_FUZZ_SLOW_SECONDS").unwrap_or(5));
    let path = PathBuf::from(std::env::var_os(INPUT).expect("NLSQ_FUZZ_INPUT"));
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let end = Instant::now() + Duration::from_secs(seconds);
            let mut g = Gen(seed);
            let (mut n, mut models) = (0u64, 0u64);
            while Instant::now() < end {
                let (src, is_fn) = g.input();
                let mut f = std::fs::File::create(&path).expect("create the input file");
                f.write_all(src.as_bytes()).expect("write the input file");
                drop(f);
                let t = Instant::now();
                let ok = if is_fn {
                    model_from_source(&src).map(Compiled::new).is_ok()
                } else {
                    model_from_expr(&src, None).map(Compiled::new).is_ok()
                };
                if t.elapsed() > slow {
                    eprintln!("too slow: {:?}", t.elapsed());
                    std::process::exit(3);
                }
                n += 1;
                models += u64::from(ok);
            }
            println!("{n} inputs, {models} compiled to models, the rest rejected with errors");
        })
        .expect("spawn the fuzz thread")
        .join()
        .unwrap_or_else(|_| std::process::exit(2));
}

/// A seeded generator (SplitMix64) of model sources.
struct Gen(u64);

const PARAMS: &[&str] = &["a", "b", "c", "amp", "mu", "sigma", "p0", "p1", "k"];
const LITERALS: &[&str] = &[
    "0",
    "1",
    "2",
    "2.5",
    "0.1",
    "3.0",
    "1e308",
    "1e309",
    "1e-400",
    "1e999",
    "1.7976931348623157e308",
    "4.9e-324",
    "1f64",
    "2f32",
    "1u8",
    "99999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "0x1F",
    "1_000.5",
    "1e",
    ".5",
    "5.",
    "1.0e+10",
    "NaN",
    "inf",
    "'a'",
    "\"s\"",
    "b'x'",
    "true",
];
const UNICODE: &[&str] = &[
    "µ", "π", "α1", "x²", "😀", "ｘ", "a\u{301}", "\u{200b}", "é", "∑",
];
const FUNCTIONS: &[&str] = &[
    "exp",
    "ln",
    "log",
    "log10",
    "log2",
    "sqrt",
    "cbrt",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "sinh",
    "cosh",
    "tanh",
    "erf",
    "erfc",
    "abs",
    "pow",
    "powi",
    "powf",
    "hypot",
    "min",
    "max",
    "floor",
    "foo",
    "f64::exp",
    "f64::powi",
    "f64::erf",
    "std::f64::exp",
    "f64::consts::PI",
];
const BINARY: &[&str] = &[
    " + ", " - ", " * ", " / ", " % ", " ^ ", " < ", " <= ", " > ", " >= ", " == ", " != ", " && ",
    " || ", " & ", " | ", " << ", " = ", " += ", "..", "..=", " as f64 ", " as i32 ",
];
const WRAPS: &[(&str, &str)] = &[
    ("(", ")"),
    ("exp(", ")"),
    ("f64::abs(", ")"),
    ("{", "}"),
    ("[", "]"),
    ("-", ""),
    ("!", ""),
    ("(", ").abs()"),
    ("(", " as f64)"),
    ("if a < x { ", " } else { 0.0 }"),
    ("|x| ", ""),
    ("return ", ""),
    ("&", ""),
    ("x as A<", ">"),
    ("{ let v = ", "; v }"),
];

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn leaf(&mut self) -> String {
        match self.below(10) {
            0..=2 => "x".into(),
            3 => format!(
                "x[{}]",
                match self.below(6) {
                    0 => "1000000000".to_string(),
                    1 => "18446744073709551616".to_string(),
                    2 => "255".to_string(),
                    3 => "-1".to_string(),
                    _ => self.below(4).to_string(),
                }
            ),
            4..=6 => self.pick(PARAMS).into(),
            7 => match self.below(4) {
                0 => "pi".into(),
                1 => "PI".into(),
                2 => "std::f64::consts::E".into(),
                _ => self.pick(UNICODE).into(),
            },
            _ => self.pick(LITERALS).into(),
        }
    }

    /// An expression of the model language, or a near miss, nested at most `depth` deep.
    fn expr(&mut self, depth: u32) -> String {
        if depth == 0 || self.chance(25) {
            return self.leaf();
        }
        let d = depth - 1;
        match self.below(16) {
            0..=3 => {
                let (l, r) = (self.expr(d), self.expr(d));
                format!("{l}{}{r}", self.pick(BINARY))
            }
            4 => format!("-{}", self.expr(d)),
            5 => format!("!{}", self.expr(d)),
            6 | 7 => {
                let f = self.pick(FUNCTIONS);
                let n = if self.chance(80) {
                    1 + self.below(2)
                } else {
                    self.below(4)
                };
                let args: Vec<String> = (0..n).map(|_| self.expr(d)).collect();
                format!("{f}({})", args.join(", "))
            }
            8 => {
                let f = self.pick(FUNCTIONS);
                let n = self.below(3);
                let args: Vec<String> = (0..n).map(|_| self.expr(d)).collect();
                format!("({}).{f}({})", self.expr(d), args.join(", "))
            }
            9 => format!("({})", self.expr(d)),
            10 => format!(
                "if {} < {} {{ {} }} else {{ {} }}",
                self.expr(d),
                self.expr(d),
                self.expr(d),
                self.expr(d)
            ),
            11 => format!("{{ let v = {}; v * {} }}", self.expr(d), self.expr(d)),
            12 => {
                let n = self.pick(&[
                    "0",
                    "3",
                    "10",
                    "10000",
                    "10001",
                    "-5",
                    "9223372036854775807",
                ]);
                format!(
                    "{{ let mut s = 0.0; for i in 0..{n} {{ s += {} * (i as f64); }} s }}",
                    self.expr(d)
                )
            }
            13 => format!("{}[{}]", self.leaf(), self.expr(d)),
            14 => format!("({}).powi({})", self.expr(d), self.pick(LITERALS)),
            _ => match self.below(6) {
                0 => format!("|x| {}", self.expr(d)),
                1 => format!("match {} {{ _ => {} }}", self.expr(d), self.expr(d)),
                2 => format!("[{}, {}]", self.expr(d), self.expr(d)),
                3 => format!("m!({})", self.expr(d)),
                4 => format!("S {{ a: {} }}", self.expr(d)),
                _ => format!("({}, {})", self.expr(d), self.expr(d)),
            },
        }
    }

    /// Structural extremes: deep nesting and long chains, built with loops.
    fn extreme(&mut self) -> String {
        let n = [10, 50, 62, 64, 66, 100, 300, 5000][self.below(8)];
        if self.chance(30) {
            let op = self.pick(&[" + ", " - ", " * ", " < ", ".abs()", " as f64"]);
            let terms = [100, 1000, 2000, 4095, 5000][self.below(5)];
            let term = self.expr(2);
            return if op.starts_with(' ') && op != " as f64" {
                vec![term; terms].join(op)
            } else {
                format!("({term}){}", op.repeat(terms))
            };
        }
        let mut s = self.expr(2);
        for _ in 0..n {
            let (open, close) = WRAPS[self.below(WRAPS.len())];
            s = format!("{open}{s}{close}");
            if s.len() > 400_000 {
                break;
            }
        }
        s
    }

    /// Truncations, deletions, insertions and duplications.
    fn mutate(&mut self, mut s: String) -> String {
        for _ in 0..1 + self.below(3) {
            let cut = (0..=s.len())
                .filter(|&i| s.is_char_boundary(i))
                .collect::<Vec<_>>();
            let at = cut[self.below(cut.len())];
            match self.below(4) {
                0 => s.truncate(at),
                1 => {
                    let end = cut.iter().copied().find(|&i| i > at).unwrap_or(at);
                    s.replace_range(at..end, "");
                }
                2 => {
                    let piece = self.pick(&[
                        "(", ")", "{", "}", "[", "]", "-", "'", "\"", "/*", "//", "\\", "µ", "\0",
                        ";", "x", ",",
                    ]);
                    s.insert_str(at, piece);
                }
                _ => {
                    let dup = s[at..].chars().take(20).collect::<String>();
                    s.insert_str(at, &dup);
                }
            }
        }
        s
    }

    /// One input and whether it is a `fn` item.
    fn input(&mut self) -> (String, bool) {
        let mut body = match self.below(10) {
            0 | 1 => self.extreme(),
            _ => self.expr(5),
        };
        if self.chance(20) {
            body = self.mutate(body);
        }
        if self.chance(60) {
            return (body, false);
        }
        let k = self.pick(&[
            "1",
            "2",
            "3",
            "256",
            "257",
            "1024",
            "1025",
            "0",
            "18446744073709551616",
        ]);
        let x = if self.chance(70) {
            "f64".to_string()
        } else {
            format!("[f64; {k}]")
        };
        let mut src = format!(
            "fn m(x: {x}, a: f64, b: f64, c: [f64; {}]) -> f64 {{ {body} }}",
            self.pick(&["1", "3", "1000", "1024"])
        );
        if self.chance(10) {
            src = self.mutate(src);
        }
        (src, true)
    }
}
