"""One module per dataset adapter; each registers itself with `aecli.data.adapter`."""
