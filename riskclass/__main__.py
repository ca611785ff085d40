from riskclass.cli.main import main

raise SystemExit(main())
