import LoadTestCore
print("placeholder")
