//! A TCP proxy in front of the app that a test can cut: the server stays up, the browser cannot
//! reach it, or reaches it and never hears the answer.

/// A TCP proxy in front of the app whose connections the test can cut, and which can refuse new
/// ones for a while (the server stays up, but the browser cannot reach it), or pass requests on
/// and lose the answers (the server applies a write, the browser never hears of it).
pub struct CuttableProxy {
    pub address: String,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    mode: std::sync::Arc<std::sync::atomic::AtomicU8>,
}

const FORWARD: u8 = 0;
const REFUSE: u8 = 1;
const LOSE_ANSWERS: u8 = 2;

impl CuttableProxy {
    pub async fn start(upstream: &str) -> CuttableProxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mode = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(FORWARD));
        let (kept, current) = (connections.clone(), mode.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mode = current.load(Ordering::SeqCst);
                if mode == REFUSE {
                    continue; // dropped: the browser sees the connection fail
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(server) = tokio::net::TcpStream::connect(&upstream).await {
                        Self::relay(client, server, mode == LOSE_ANSWERS).await;
                    }
                });
                kept.lock().unwrap().push(task);
            }
        });
        CuttableProxy {
            address,
            connections,
            mode,
        }
    }

    /// Copies both ways; losing answers, it reads the server's answer and closes the client's
    /// connection without a byte of it.
    async fn relay(
        mut client: tokio::net::TcpStream,
        mut server: tokio::net::TcpStream,
        lose: bool,
    ) {
        use tokio::io::AsyncReadExt;
        if !lose {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            return;
        }
        let (mut from_client, _to_client) = client.into_split();
        let (mut from_server, mut to_server) = server.into_split();
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
        });
        let mut answer = [0_u8; 4096];
        // The first bytes of the answer mean the server has finished the request: drop it all.
        let _ = from_server.read(&mut answer).await;
    }

    fn switch(&self, mode: u8) {
        self.mode.store(mode, std::sync::atomic::Ordering::SeqCst);
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Cuts every open connection, and refuses new ones until `restore`.
    pub fn cut(&self) {
        self.switch(REFUSE);
    }

    /// Cuts every open connection; new ones carry requests to the server but lose its answers.
    pub fn lose_answers(&self) {
        self.switch(LOSE_ANSWERS);
    }

    /// Back to passing everything on (connections made meanwhile are cut).
    pub fn restore(&self) {
        self.switch(FORWARD);
    }
}
