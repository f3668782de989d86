from mle_ci.cli import main

raise SystemExit(main())
