//! The key prefix against `COMMAND GETKEYS` of a real redis-server, for every command whose
//! arguments hold keys: the arguments the prefix path changes are exactly the keys the
//! server finds, and the server finds the prefixed keys in the prefixed call.
//!
//! The calls come from `samples.rs`, generated from the specs' argument trees, so a command
//! added to the specs is checked without anyone writing its case.

use super::prefix::positions;
use super::samples::SAMPLES;
use super::server_tests::{request, Server};
use super::{all, lookup};

const PREFIX: &str = "tenant:";

/// Sample calls the test server (7.0) refuses that 7.2.6, whose specs the samples come from,
/// accepts, with why.
const UNCHECKABLE: &[(&[&str], &str)] =
    &[(&["PFMERGE", "key1"], "7.2 made the source keys optional; 7.0 needs one")];

#[test]
fn prefixed_positions_are_the_keys_command_getkeys_finds() {
    let server = Server::start();
    let mut conn = server.connect();
    let mut checked = 0;
    let mut problems = Vec::new();
    for (name, calls) in SAMPLES {
        for call in *calls {
            let args: Vec<&[u8]> = call.iter().map(|a| a.as_bytes()).collect();
            let Some(info) = lookup(&args) else {
                problems.push(format!("{name}: not in the table"));
                continue;
            };
            let at = match positions(Some(info), &args, &[]) {
                Ok(at) => at,
                Err(e) => {
                    problems.push(format!("{call:?}: refused: {e}"));
                    continue;
                }
            };
            let mut getkeys = vec!["COMMAND", "GETKEYS"];
            getkeys.extend_from_slice(call);
            let plain = request(&mut conn, &getkeys);
            let prefixed_call: Vec<String> = call
                .iter()
                .enumerate()
                .map(
                    |(i, a)| if at.contains(&i) { format!("{PREFIX}{a}") } else { (*a).to_owned() },
                )
                .collect();
            let mut getkeys_prefixed = vec!["COMMAND", "GETKEYS"];
            getkeys_prefixed.extend(prefixed_call.iter().map(String::as_str));
            let prefixed = request(&mut conn, &getkeys_prefixed);
            match (plain, prefixed) {
                (Ok(keys), Ok(pkeys)) => {
                    let want: Vec<Vec<u8>> =
                        keys.iter().map(|k| [PREFIX.as_bytes(), k].concat()).collect();
                    if pkeys != want {
                        problems.push(format!(
                            "{call:?}: prefixed {prefixed_call:?}, GETKEYS {pkeys:?}"
                        ));
                    }
                    let found: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                    let changed: Vec<&[u8]> = at.iter().map(|&i| args[i]).collect();
                    if changed != found {
                        problems.push(format!("{call:?}: prefixed {changed:?}, keys {found:?}"));
                    }
                    checked += 1;
                }
                (Err(_), _) if UNCHECKABLE.iter().any(|(c, _)| c == call) => {}
                (Err(e), _) => problems.push(format!("{call:?}: GETKEYS refused the sample: {e}")),
                (Ok(_), Err(e)) => {
                    problems.push(format!("{call:?}: GETKEYS refused the prefixed call: {e}"))
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    // Every command the table says has keys has a sample (the specs and the samples agree).
    let sampled: Vec<&str> = SAMPLES.iter().map(|(n, _)| *n).collect();
    let missing: Vec<&str> = all()
        .filter(|i| !i.sentinel_only && i.has_keys() && !sampled.contains(&i.name))
        .map(|i| i.name)
        .collect();
    assert!(missing.is_empty(), "commands with keys but no sample call: {missing:?}");
    assert!(checked >= 190, "only {checked} calls checked");
    eprintln!("{checked} sample calls of {} commands agree with COMMAND GETKEYS", SAMPLES.len());
}
