from gallra.cli import main

main()
