from riskclass.cli import main

raise SystemExit(main())
