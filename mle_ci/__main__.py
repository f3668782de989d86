from mle_ci.cli import process_main

raise SystemExit(process_main())
