// Per-command instruction counts: `measure URL get N | set-batch B N | startup`.
use redpoll::Client;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let client = Client::open(&args[1]).unwrap();
    client.connect().wait().unwrap();
    client.set("k", "v").wait().unwrap();
    match args[2].as_str() {
        "startup" => {}
        "get" => {
            let n: usize = args[3].parse().unwrap();
            for _ in 0..n {
                let _ = client.get("k").wait().unwrap();
            }
        }
        "set-batch" => {
            let (b, n): (usize, usize) = (args[3].parse().unwrap(), args[4].parse().unwrap());
            for _ in 0..b {
                let handles: Vec<_> = (0..n).map(|_| client.set("k", "v").send()).collect();
                for h in handles {
                    h.wait().unwrap();
                }
            }
        }
        _ => panic!("mode"),
    }
}
