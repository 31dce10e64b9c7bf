#!/usr/bin/env node
// The `kmiri` command: a shim over the built CLI (`npm run build` writes dist/).
import("../dist/cli/main.js").then(
  (cli) => cli.runCli(),
  (error) => {
    const notBuilt = error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("main.js");
    process.stderr.write(
      notBuilt
        ? "error: kmiri is not built: run `npm run build` in its package first\n"
        : `error: internal error in kmiri: ${error?.message ?? error}\n`,
    );
    process.exit(2);
  },
);
