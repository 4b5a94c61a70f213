"""Everything around the product: the local stack (local), operations (admin) and load tooling (stress)."""
