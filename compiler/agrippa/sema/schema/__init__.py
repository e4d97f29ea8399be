"""The XSD: validation with exact ranges, and its documentation for hover and completion."""
