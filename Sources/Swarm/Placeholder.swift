// Filled by a later issue; see DESIGN §1.
