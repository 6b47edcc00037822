"""Star-allele calling from variant data (VCF and genotype tables)."""
