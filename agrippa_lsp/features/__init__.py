"""One module per LSP feature, each with `register(server)`: from the protocol's params to
an `agrippa.ide` call and back to protocol types. `agrippa_lsp.server` lists them."""
