print("kanaria")
