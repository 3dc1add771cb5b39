{
  # The optional native accelerator (issue 13), built by scripts/build-native.mjs at install.
  # Plain N-API (no node-addon-api) against Node's own headers, including the OpenSSL headers of
  # the OpenSSL Node links and exports: nothing else is linked.
  "targets": [
    {
      "target_name": "masque_native",
      "sources": ["masque_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "xcode_settings": {"OTHER_CFLAGS": ["-O2", "-Wall", "-Wextra"]}
    }
  ]
}
