from wilddeblur.cli import main

main()
