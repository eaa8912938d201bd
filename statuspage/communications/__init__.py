"""Writing to the public: update templates and plain-language advice."""
