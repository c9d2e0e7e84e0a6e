from overconf.cli import main

main()
