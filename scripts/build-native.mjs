// Builds the sampling helper at install time; placeholder until the helper lands.
console.log('profctl: no native helper to build yet');
